import CortadoBase
import CortadoIO
import Foundation

/// The shape of Caffe's messages as text files use them: field names, kinds and which
/// fields repeat. Field names are Caffe's (caffe.proto); numbers live with the binary IO.
/// Messages that Cortado reads but does not interpret are listed with all their fields
/// anyway, so real prototxts validate; a message left out entirely is accepted as opaque.
package indirect enum FieldKind: Sendable, Equatable {
    case int, float, bool, string
    case enumeration([String])
    case message(String)
    case opaque
}

package struct FieldSpec: Sendable {
    package var name: String
    package var kind: FieldKind
    package var repeated: Bool
}

package struct MessageSpec: Sendable {
    package var name: String
    package var fields: [String: FieldSpec]
    package var order: [String]
}

package enum Schema {
    /// `log_json` in SolverParameter is Cortado's own (a JSON log path); Caffe has no such field.
    /// One line per message: `field:kind` separated by spaces; `*` marks a repeated field,
    /// `@Name` a nested message, `enum(A,B)` an enum, `?` an opaque message.
    static let definitions: [(String, String)] = [
        ("NetParameter", "name:string *input:string *input_shape:@BlobShape *input_dim:int force_backward:bool state:@NetState debug_info:bool *layer:@LayerParameter *layers:@V1LayerParameter"),
        ("NetState", "phase:enum(TRAIN,TEST) level:int *stage:string"),
        ("NetStateRule", "phase:enum(TRAIN,TEST) min_level:int max_level:int *stage:string *not_stage:string"),
        ("ParamSpec", "name:string share_mode:enum(STRICT,PERMISSIVE) lr_mult:float decay_mult:float"),
        ("BlobShape", "*dim:int"),
        ("BlobProto", "shape:@BlobShape *data:float *diff:float *double_data:float *double_diff:float num:int channels:int height:int width:int"),
        ("LayerParameter", """
            name:string type:string *bottom:string *top:string phase:enum(TRAIN,TEST) *loss_weight:float *param:@ParamSpec \
            *blobs:@BlobProto *propagate_down:bool *include:@NetStateRule *exclude:@NetStateRule \
            transform_param:@TransformationParameter loss_param:@LossParameter hdf5_output_param:@HDF5OutputParameter \
            memory_data_param:@MemoryDataParameter sigmoid_param:@SigmoidParameter \
            tanh_param:@TanHParameter window_data_param:@WindowDataParameter
            """),
        ("V1LayerParameter", """
            *bottom:string *top:string name:string *include:@NetStateRule *exclude:@NetStateRule \
            type:enum(NONE,ABSVAL,ACCURACY,ARGMAX,BNLL,CONCAT,CONTRASTIVE_LOSS,CONVOLUTION,DATA,DECONVOLUTION,DROPOUT,DUMMY_DATA,EUCLIDEAN_LOSS,ELTWISE,EXP,FLATTEN,HDF5_DATA,HDF5_OUTPUT,HINGE_LOSS,IM2COL,IMAGE_DATA,INFOGAIN_LOSS,INNER_PRODUCT,LRN,MEMORY_DATA,MULTINOMIAL_LOGISTIC_LOSS,MVN,POOLING,POWER,RELU,SIGMOID,SIGMOID_CROSS_ENTROPY_LOSS,SILENCE,SOFTMAX,SOFTMAX_LOSS,SPLIT,SLICE,TANH,WINDOW_DATA,THRESHOLD) \
            *blobs:@BlobProto *param:string *blob_share_mode:enum(STRICT,PERMISSIVE) *blobs_lr:float *weight_decay:float *loss_weight:float \
            accuracy_param:@AccuracyParameter argmax_param:@ArgMaxParameter concat_param:@ConcatParameter \
            contrastive_loss_param:@ContrastiveLossParameter convolution_param:@ConvolutionParameter data_param:@DataParameter \
            dropout_param:@DropoutParameter dummy_data_param:@DummyDataParameter eltwise_param:@EltwiseParameter exp_param:@ExpParameter \
            hdf5_data_param:@HDF5DataParameter hdf5_output_param:@HDF5OutputParameter hinge_loss_param:@HingeLossParameter \
            image_data_param:@ImageDataParameter infogain_loss_param:@InfogainLossParameter inner_product_param:@InnerProductParameter \
            lrn_param:@LRNParameter memory_data_param:@MemoryDataParameter mvn_param:@MVNParameter pooling_param:@PoolingParameter \
            power_param:@PowerParameter relu_param:@ReLUParameter sigmoid_param:@SigmoidParameter softmax_param:@SoftmaxParameter \
            slice_param:@SliceParameter tanh_param:@TanHParameter threshold_param:@ThresholdParameter window_data_param:@WindowDataParameter \
            transform_param:@TransformationParameter loss_param:@LossParameter layer:?
            """),
        ("FillerParameter", "type:string value:float min:float max:float mean:float std:float sparse:int variance_norm:enum(FAN_IN,FAN_OUT,AVERAGE)"),
        ("TransformationParameter", "scale:float mirror:bool crop_size:int mean_file:string *mean_value:float force_color:bool force_gray:bool"),
        ("LossParameter", "ignore_label:int normalization:enum(FULL,VALID,BATCH_SIZE,NONE) normalize:bool"),
        ("HDF5OutputParameter", "file_name:string"),
        ("MemoryDataParameter", "batch_size:int channels:int height:int width:int"),
        ("SigmoidParameter", "engine:enum(DEFAULT,CAFFE,CUDNN)"),
        ("TanHParameter", "engine:enum(DEFAULT,CAFFE,CUDNN)"),
        ("WindowDataParameter", "source:string scale:float mean_file:string batch_size:int crop_size:int mirror:bool fg_threshold:float bg_threshold:float fg_fraction:float context_pad:int crop_mode:string cache_images:bool root_folder:string"),
        ("SolverParameter", """
            net:string net_param:@NetParameter train_net:string *test_net:string train_net_param:@NetParameter \
            *test_net_param:@NetParameter train_state:@NetState *test_state:@NetState *test_iter:int test_interval:int \
            test_compute_loss:bool test_initialization:bool base_lr:float display:int average_loss:int max_iter:int \
            iter_size:int lr_policy:string gamma:float power:float momentum:float weight_decay:float \
            regularization_type:string stepsize:int *stepvalue:int clip_gradients:float snapshot:int snapshot_prefix:string \
            snapshot_diff:bool snapshot_format:enum(HDF5,BINARYPROTO) solver_mode:enum(CPU,GPU) device_id:int random_seed:int \
            type:string delta:float momentum2:float rms_decay:float debug_info:bool snapshot_after_train:bool \
            solver_type:enum(SGD,NESTEROV,ADAGRAD,RMSPROP,ADADELTA,ADAM) layer_wise_reduce:bool *weights:string \
            log_json:string
            """),
    ]

    /// The messages of `definitions`, and those the layers add for themselves.
    package static var messages: [String: MessageSpec] {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: [String: MessageSpec] = {
        var out: [String: MessageSpec] = [:]
        // The table above is the code's own: a mistake in it is caught by every test that reads a file.
        for (name, text) in definitions { out[name] = try! spec(name, text) }
        return out
    }()

    /// Adds a layer's own settings message (`fields` in the language of `definitions`) and the
    /// LayerParameter field that holds it. Each layer's file owns its message this way
    /// (`LayerSettings.schema`); the layer registry adds them all before any file is read.
    /// A program's own layer may give a schema that does not parse: that is an error naming it.
    package static func addLayerMessage(_ name: String, fields text: String, field: String) throws {
        lock.lock(); defer { lock.unlock() }
        if current[name] == nil { current[name] = try spec(name, text) }
        guard var layer = current["LayerParameter"], layer.fields[field] == nil else { return }
        layer.fields[field] = FieldSpec(name: field, kind: .message(name), repeated: false)
        layer.order.append(field)
        current["LayerParameter"] = layer
    }

    private static func spec(_ name: String, _ text: String) throws -> MessageSpec {
        var fields: [String: FieldSpec] = [:]
        var order: [String] = []
        if text != "?" {
            for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                var entry = Substring(token)
                let repeated = entry.hasPrefix("*")
                if repeated { entry = entry.dropFirst() }
                let parts = entry.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let kind = parseKind(String(parts[1])) else {
                    throw ConfigError(location: nil, path: "the schema of \(name)",
                                      message: "\"\(token)\" is not name:kind (kinds: int, float, bool, string, @Message, enum(A,B), ?)")
                }
                fields[String(parts[0])] = FieldSpec(name: String(parts[0]), kind: kind, repeated: repeated)
                order.append(String(parts[0]))
            }
        }
        return MessageSpec(name: name, fields: fields, order: order)
    }

    private static func parseKind(_ text: String) -> FieldKind? {
        switch text {
        case "int": return .int
        case "float": return .float
        case "bool": return .bool
        case "string": return .string
        case "?": return .opaque
        default:
            if text.hasPrefix("@") { return .message(String(text.dropFirst())) }
            if text.hasPrefix("enum(") {
                return .enumeration(text.dropFirst(5).dropLast().split(separator: ",").map(String.init))
            }
            return nil
        }
    }
}
