// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Cortado",
    products: [
        .library(name: "Cortado", targets: ["Cortado"]),
        .executable(name: "cortado", targets: ["cortado"]),
        // The C interface the Python package loads (python/, `pip install ./python`).
        .library(name: "CortadoPython", type: .dynamic, targets: ["CortadoPython"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // oneDNN's convolutions (Debian's libdnnl-dev): 2.5–3.5× the im2col + sgemm path on
        // convolutions with many channels (bench/RESULTS.md).
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // Open MPI (Debian's libopenmpi-dev) for data-parallel training across processes and
        // machines; CMPI wraps the handle macros Swift cannot import.
        .systemLibrary(name: "COpenMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CMPI", dependencies: ["COpenMPI"]),
        .systemLibrary(name: "CLMDB", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CTurboJPEG", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // protoc-c output for proto/caffe_subset.proto (regenerate with proto/generate.sh).
        .target(name: "CCaffeProto", linkerSettings: [.linkedLibrary("protobuf-c")]),
        // protoc-c output for proto/onnx_subset.proto (export-onnx).
        .target(name: "CONNXProto", linkerSettings: [.linkedLibrary("protobuf-c")]),
        // The library, as targets that depend only downwards (docs/ARCHITECTURE.md, "Targets";
        // ArchitectureTests checks this list against that graph). Not built for the host CPU
        // (-target-cpu native): measured no faster (bench/RESULTS.md), since the hot loops use
        // explicit 8-lane SIMD and the products are OpenBLAS's and oneDNN's.
        .target(name: "CortadoBase", dependencies: ["CBLAS", "CDNNL"]),
        .target(name: "CortadoIO", dependencies: ["CortadoBase", "CHDF5", "CLMDB", "CTurboJPEG", "CPNG", "CCaffeProto"]),
        .target(name: "CortadoConfig", dependencies: ["CortadoBase", "CortadoIO"]),
        .target(name: "CortadoLayers", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig"]),
        .target(name: "CortadoNet", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers"]),
        .target(name: "CortadoSolvers", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet"]),
        .target(name: "CortadoDistributed", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers", "CMPI"]),
        .target(name: "CortadoMonitor", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers"]),
        .target(name: "CortadoExport", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers", "CONNXProto"]),
        .target(name: "CortadoDeploy", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers"]),
        // Everything above as one import, for programs that embed Cortado.
        .target(name: "Cortado", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers",
                                                "CortadoDistributed", "CortadoMonitor", "CortadoExport", "CortadoDeploy"]),
        // The C interface for Python (pycaffe's API over ctypes) and the interpreter the tool
        // embeds for `type: "Python"` layers.
        .target(name: "CortadoPython", dependencies: ["CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers"]),
        // The browser dashboard (`cortado serve`, `train --serve`), apart so the core library
        // does not depend on a web server.
        // It and the tool import only the umbrella `Cortado` but list the targets below it too:
        // otherwise an incremental build that changes a class in a lower target (a new `open`
        // member, so a new vtable) can leave them compiled against the old layout.
        .target(name: "CortadoServe", dependencies: ["Cortado", "CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers",
                                                     "CortadoDistributed", "CortadoMonitor", "CortadoExport", "CortadoDeploy",
                                                     .product(name: "FlyingFox", package: "FlyingFox")]),
        .executableTarget(name: "cortado", dependencies: [
            "Cortado", "CortadoServe", "CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet", "CortadoSolvers",
            "CortadoDistributed", "CortadoMonitor", "CortadoExport", "CortadoDeploy", "CortadoPython",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        // The C interface's symbols stay visible, so an embedded interpreter's ctypes finds them
        // in the running tool (python/cortado/_lib.py) instead of loading a second copy.
        linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]),
        // A program that embeds Cortado, compiled without this package's name, as a program
        // from elsewhere is, so it can use only the public API.
        .testTarget(name: "CortadoClientTests", dependencies: ["Cortado", "CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet",
                                                              "CortadoSolvers", "CortadoDistributed", "CortadoMonitor", "CortadoExport", "CortadoDeploy"],
                    packageAccess: false),
        .testTarget(name: "CortadoTests", dependencies: ["Cortado", "CortadoBase", "CortadoIO", "CortadoConfig", "CortadoLayers", "CortadoNet",
                                                        "CortadoSolvers", "CortadoDistributed", "CortadoMonitor", "CortadoExport", "CortadoDeploy", "CortadoServe", "cortado", "CBLAS", "CHDF5", "CTurboJPEG", "CLMDB", "CONNXProto"], exclude: ["Fixtures"]),
    ]
)
