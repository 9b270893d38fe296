import CortadoBase

/// Caffe's V1 LayerType enum, for old binary weights (IO) and old text files (V1Upgrade).
package enum V1LayerType {
    /// V1 LayerType enum: (identifier, number, today's type string).
    package static let types: [(String, Int, String)] = [
        ("NONE", 0, ""), ("ABSVAL", 35, "AbsVal"), ("ACCURACY", 1, "Accuracy"), ("ARGMAX", 30, "ArgMax"), ("BNLL", 2, "BNLL"),
        ("CONCAT", 3, "Concat"), ("CONTRASTIVE_LOSS", 37, "ContrastiveLoss"), ("CONVOLUTION", 4, "Convolution"),
        ("DECONVOLUTION", 39, "Deconvolution"), ("DATA", 5, "Data"), ("DROPOUT", 6, "Dropout"), ("DUMMY_DATA", 32, "DummyData"),
        ("EUCLIDEAN_LOSS", 7, "EuclideanLoss"), ("ELTWISE", 25, "Eltwise"), ("EXP", 38, "Exp"), ("FLATTEN", 8, "Flatten"),
        ("HDF5_DATA", 9, "HDF5Data"), ("HDF5_OUTPUT", 10, "HDF5Output"), ("HINGE_LOSS", 28, "HingeLoss"), ("IM2COL", 11, "Im2col"),
        ("IMAGE_DATA", 12, "ImageData"), ("INFOGAIN_LOSS", 13, "InfogainLoss"), ("INNER_PRODUCT", 14, "InnerProduct"),
        ("LRN", 15, "LRN"), ("MEMORY_DATA", 29, "MemoryData"), ("MULTINOMIAL_LOGISTIC_LOSS", 16, "MultinomialLogisticLoss"),
        ("MVN", 34, "MVN"), ("POOLING", 17, "Pooling"), ("POWER", 26, "Power"), ("RELU", 18, "ReLU"), ("SIGMOID", 19, "Sigmoid"),
        ("SIGMOID_CROSS_ENTROPY_LOSS", 27, "SigmoidCrossEntropyLoss"), ("SILENCE", 36, "Silence"), ("SOFTMAX", 20, "Softmax"),
        ("SOFTMAX_LOSS", 21, "SoftmaxWithLoss"), ("SPLIT", 22, "Split"), ("SLICE", 33, "Slice"), ("TANH", 23, "TanH"),
        ("WINDOW_DATA", 24, "WindowData"), ("THRESHOLD", 31, "Threshold"),
    ]

    package static func typeName(forEnum n: Int) -> String {
        types.first { $0.1 == n }?.2 ?? "V1 type \(n)"
    }

    package static func typeName(forIdentifier id: String) -> String? {
        types.first { $0.0 == id }?.2
    }
}
