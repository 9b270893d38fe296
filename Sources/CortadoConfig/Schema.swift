import CortadoBase
import CortadoIO

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
            transform_param:@TransformationParameter loss_param:@LossParameter accuracy_param:@AccuracyParameter \
            argmax_param:@ArgMaxParameter batch_norm_param:@BatchNormParameter bias_param:@BiasParameter clip_param:@ClipParameter \
            concat_param:@ConcatParameter contrastive_loss_param:@ContrastiveLossParameter convolution_param:@ConvolutionParameter \
            crop_param:@CropParameter data_param:@DataParameter dropout_param:@DropoutParameter dummy_data_param:@DummyDataParameter \
            eltwise_param:@EltwiseParameter elu_param:@ELUParameter embed_param:@EmbedParameter exp_param:@ExpParameter \
            flatten_param:@FlattenParameter hdf5_data_param:@HDF5DataParameter hdf5_output_param:@HDF5OutputParameter \
            hinge_loss_param:@HingeLossParameter image_data_param:@ImageDataParameter infogain_loss_param:@InfogainLossParameter \
            inner_product_param:@InnerProductParameter input_param:@InputParameter log_param:@LogParameter lrn_param:@LRNParameter \
            memory_data_param:@MemoryDataParameter mvn_param:@MVNParameter parameter_param:@ParameterParameter \
            pooling_param:@PoolingParameter power_param:@PowerParameter prelu_param:@PReLUParameter python_param:@PythonParameter \
            recurrent_param:@RecurrentParameter reduction_param:@ReductionParameter relu_param:@ReLUParameter \
            reshape_param:@ReshapeParameter scale_param:@ScaleParameter sigmoid_param:@SigmoidParameter \
            softmax_param:@SoftmaxParameter spp_param:@SPPParameter slice_param:@SliceParameter swish_param:@SwishParameter \
            tanh_param:@TanHParameter threshold_param:@ThresholdParameter tile_param:@TileParameter window_data_param:@WindowDataParameter
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
        ("AccuracyParameter", "top_k:int axis:int ignore_label:int"),
        ("ArgMaxParameter", "out_max_val:bool top_k:int axis:int"),
        ("BatchNormParameter", "use_global_stats:bool moving_average_fraction:float eps:float"),
        ("BiasParameter", "axis:int num_axes:int filler:@FillerParameter"),
        ("ClipParameter", "min:float max:float"),
        ("ConcatParameter", "axis:int concat_dim:int"),
        ("ContrastiveLossParameter", "margin:float legacy_version:bool"),
        ("ConvolutionParameter", """
            num_output:int bias_term:bool *pad:int *kernel_size:int *stride:int *dilation:int pad_h:int pad_w:int \
            kernel_h:int kernel_w:int stride_h:int stride_w:int group:int weight_filler:@FillerParameter \
            bias_filler:@FillerParameter engine:enum(DEFAULT,CAFFE,CUDNN) axis:int force_nd_im2col:bool
            """),
        ("CropParameter", "axis:int *offset:int"),
        ("DataParameter", "source:string batch_size:int rand_skip:int backend:enum(LEVELDB,LMDB) scale:float mean_file:string crop_size:int mirror:bool force_encoded_color:bool prefetch:int"),
        ("DropoutParameter", "dropout_ratio:float scale_train:bool"),
        ("DummyDataParameter", "*data_filler:@FillerParameter *shape:@BlobShape *num:int *channels:int *height:int *width:int"),
        ("EltwiseParameter", "operation:enum(PROD,SUM,MAX) *coeff:float stable_prod_grad:bool"),
        ("ELUParameter", "alpha:float"),
        ("EmbedParameter", "num_output:int input_dim:int bias_term:bool weight_filler:@FillerParameter bias_filler:@FillerParameter"),
        ("ExpParameter", "base:float scale:float shift:float"),
        ("FlattenParameter", "axis:int end_axis:int"),
        ("HDF5DataParameter", "source:string batch_size:int shuffle:bool"),
        ("HDF5OutputParameter", "file_name:string"),
        ("HingeLossParameter", "norm:enum(L1,L2)"),
        ("ImageDataParameter", "source:string batch_size:int rand_skip:int shuffle:bool new_height:int new_width:int is_color:bool scale:float mean_file:string crop_size:int mirror:bool root_folder:string"),
        ("InfogainLossParameter", "source:string axis:int"),
        ("InnerProductParameter", "num_output:int bias_term:bool weight_filler:@FillerParameter bias_filler:@FillerParameter axis:int transpose:bool"),
        ("InputParameter", "*shape:@BlobShape"),
        ("LogParameter", "base:float scale:float shift:float"),
        ("LRNParameter", "local_size:int alpha:float beta:float norm_region:enum(ACROSS_CHANNELS,WITHIN_CHANNEL) k:float engine:enum(DEFAULT,CAFFE,CUDNN)"),
        ("MemoryDataParameter", "batch_size:int channels:int height:int width:int"),
        ("MVNParameter", "normalize_variance:bool across_channels:bool eps:float"),
        ("ParameterParameter", "shape:@BlobShape"),
        ("PoolingParameter", "pool:enum(MAX,AVE,STOCHASTIC) pad:int pad_h:int pad_w:int kernel_size:int kernel_h:int kernel_w:int stride:int stride_h:int stride_w:int engine:enum(DEFAULT,CAFFE,CUDNN) global_pooling:bool round_mode:enum(CEIL,FLOOR)"),
        ("PowerParameter", "power:float scale:float shift:float"),
        ("PReLUParameter", "filler:@FillerParameter channel_shared:bool"),
        ("PythonParameter", "module:string layer:string param_str:string share_in_parallel:bool"),
        ("RecurrentParameter", "num_output:int weight_filler:@FillerParameter bias_filler:@FillerParameter debug_info:bool expose_hidden:bool"),
        ("ReductionParameter", "operation:enum(SUM,ASUM,SUMSQ,MEAN) axis:int coeff:float"),
        ("ReLUParameter", "negative_slope:float engine:enum(DEFAULT,CAFFE,CUDNN)"),
        ("ReshapeParameter", "shape:@BlobShape axis:int num_axes:int"),
        ("ScaleParameter", "axis:int num_axes:int filler:@FillerParameter bias_term:bool bias_filler:@FillerParameter"),
        ("SigmoidParameter", "engine:enum(DEFAULT,CAFFE,CUDNN)"),
        ("SoftmaxParameter", "engine:enum(DEFAULT,CAFFE,CUDNN) axis:int"),
        ("SPPParameter", "pyramid_height:int pool:enum(MAX,AVE,STOCHASTIC) engine:enum(DEFAULT,CAFFE,CUDNN)"),
        ("SliceParameter", "axis:int *slice_point:int slice_dim:int"),
        ("SwishParameter", "beta:float"),
        ("TanHParameter", "engine:enum(DEFAULT,CAFFE,CUDNN)"),
        ("ThresholdParameter", "threshold:float"),
        ("TileParameter", "axis:int tiles:int"),
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

    package static let messages: [String: MessageSpec] = {
        var out: [String: MessageSpec] = [:]
        for (name, text) in definitions {
            var fields: [String: FieldSpec] = [:]
            var order: [String] = []
            if text != "?" {
                for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                    var entry = Substring(token)
                    let repeated = entry.hasPrefix("*")
                    if repeated { entry = entry.dropFirst() }
                    let parts = entry.split(separator: ":", maxSplits: 1)
                    let field = String(parts[0]), kindText = String(parts[1])
                    fields[field] = FieldSpec(name: field, kind: parseKind(kindText), repeated: repeated)
                    order.append(field)
                }
            }
            out[name] = MessageSpec(name: name, fields: fields, order: order)
        }
        return out
    }()

    private static func parseKind(_ text: String) -> FieldKind {
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
            preconditionFailure("bad schema kind \(text)")
        }
    }
}
