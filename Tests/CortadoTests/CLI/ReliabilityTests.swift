import CHDF5
import Foundation
import Testing
@testable import CortadoIO

/// The failures fault injection found, each as a user meets it: exit code 1, a specific message,
/// never a crash (exit ≥ 128), no temporary file left, the previous snapshot kept.
/// Tests that mount small or read-only file systems need root, as CI has.
@Suite struct ReliabilityTests {
    static let isRoot = getuid() == 0

    func expectCleanFailure(_ r: CLITests.Result, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        CLITests().expectCleanFailure(r, fragments, sourceLocation: sourceLocation)
    }

    /// Runs a shell command (mount, strace), returning its exit status.
    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A tmpfs of `kib` KiB (or read-only) mounted at a new folder for the length of `body`.
    static func withMount<T>(_ options: String, _ body: (String) throws -> T) throws -> T {
        let dir = temporaryDirectory("mount")
        #expect(shell("mount -t tmpfs -o \(options) tmpfs \(dir)") == 0, "mount failed")
        defer { shell("umount \(dir)") }
        return try body(dir)
    }

    /// Signals arriving while convolutions compute (LeNet's shapes on random data): SIGHUP
    /// with `--sighup_effect none`, as often as possible, then SIGINT, which stops with a
    /// snapshot. Before signals were kept off the computing threads, one landing inside
    /// oneDNN's sgemm corrupted the heap, and this run died with SIGABRT in 5 of 6 tries
    /// (an on-demand snapshot, SIGHUP or the dashboard's button, was how users met it).
    @Test func signalsWhileComputingLeaveTheRunIntact() throws {
        let dir = temporaryDirectory()
        try write("""
            name: "signals"
            layer { name: "d" type: "DummyData" top: "data" top: "label" dummy_data_param {
              shape { dim: 64 dim: 1 dim: 28 dim: 28 } shape { dim: 64 }
              data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 20 kernel_size: 5 weight_filler { type: "xavier" } } }
            layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
            layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 50 kernel_size: 5 weight_filler { type: "xavier" } } }
            layer { name: "ip" type: "InnerProduct" bottom: "conv2" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """, to: "\(dir)/net.prototxt")
        try write("""
            net: "net.prototxt" base_lr: 0.001 lr_policy: "fixed" max_iter: 100000000 display: 0
            snapshot: 0 snapshot_prefix: "\(dir)/snap" random_seed: 1
            """, to: "\(dir)/solver.prototxt")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["train", "--solver", "\(dir)/solver.prototxt", "--sighup_effect", "none"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        // Drain stderr meanwhile, so a full pipe never stalls the run.
        let log = CLITests.readInBackground(err.fileHandleForReading)
        Thread.sleep(forTimeInterval: 1)
        for _ in 0..<150 where p.isRunning {
            kill(p.processIdentifier, SIGHUP)
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let text = String(decoding: log(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(text.suffix(2000))")
        #expect(text.contains("Optimization stopped early."))
        let states = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".solverstate.h5") }
        #expect(states.count == 1, "SIGINT should have written a snapshot")
    }

    func temporaries(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-") }
    }

    /// The tiny project with its snapshots going to `prefix`, `format` HDF5 or BINARYPROTO.
    func project(snapshotPrefix prefix: String? = nil, format: String = "HDF5", maxIter: Int = 10, snapshot: Int = 5) throws -> String {
        let dir = temporaryDirectory("reliability")
        try CLITests.tinyProject(dir)
        try write("""
            net: "net.prototxt" base_lr: 0.1 lr_policy: "fixed" max_iter: \(maxIter) display: 5 test_iter: 2 test_interval: 5
            snapshot: \(snapshot) snapshot_prefix: "\(prefix ?? "\(dir)/snap")" random_seed: 1 snapshot_format: \(format)
            """, to: "\(dir)/solver.prototxt")
        return dir
    }

    // MARK: nets that cannot run

    @Test func solverWhoseNetIsEmpty() throws {
        let dir = try project()
        try write("name: \"nothing\"\n", to: "\(dir)/net.prototxt")
        expectCleanFailure(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]), ["net.prototxt:1:1", "the net has no layers"])
    }

    @Test(arguments: [["validate"], ["summary"], ["time", "--model"]]) func deeplyNestedMessages(command: [String]) throws {
        let dir = temporaryDirectory()
        try write(String(repeating: "layer { ", count: 30_000), to: "\(dir)/deep.prototxt")
        expectCleanFailure(try CLITests.run(command + ["\(dir)/deep.prototxt"]), ["deep.prototxt:1:", "nested more than 100 deep"])
    }

    @Test func groupZero() throws {
        let dir = try project()
        try write("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 8 dim: 4 dim: 4 } } }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 3 group: 0 } }
            """, to: "\(dir)/g.prototxt")
        expectCleanFailure(try CLITests.run(["validate", "\(dir)/g.prototxt"]), ["g.prototxt:2:", "group must be at least 1, found 0"])
    }

    // MARK: validate refuses what train refuses

    @Test(arguments: ["base_lr: nan", "base_lr: inf", "base_lr: -0.1", "momentum: nan"]) func badSolverValues(setting: String) throws {
        let dir = try project()
        let solver = try String(contentsOfFile: "\(dir)/solver.prototxt", encoding: .utf8)
        try write(solver.replacingOccurrences(of: "base_lr: 0.1", with: "base_lr: 0.1 \(setting)").replacingOccurrences(of: "base_lr: 0.1 base_lr", with: "base_lr"), to: "\(dir)/solver.prototxt")
        let field = String(setting.split(separator: ":")[0])
        expectCleanFailure(try CLITests.run(["validate", "\(dir)/solver.prototxt"]), ["solver.prototxt:", field])
        expectCleanFailure(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]), ["solver.prototxt:", field])
    }

    @Test func batchSizeZeroAndBrokenDataAreProblems() throws {
        let dir = try project()
        let net = try String(contentsOfFile: "\(dir)/net.prototxt", encoding: .utf8)
        try write(net.replacingOccurrences(of: "batch_size: 4", with: "batch_size: 0"), to: "\(dir)/zero.prototxt")
        expectCleanFailure(try CLITests.run(["validate", "\(dir)/zero.prototxt"]), ["zero.prototxt:2:", "batch_size > 0"])
        try Data(repeating: 7, count: 64).write(to: URL(fileURLWithPath: "\(dir)/d.h5"))
        expectCleanFailure(try CLITests.run(["validate", "\(dir)/net.prototxt"]), ["d.h5", "not an HDF5 file"])
    }

    @Test func impossibleDatasetShapeIsNamed() throws {
        let dir = try project()
        // A `data` dataset that declares 2^60 values (created, never written).
        do {
            let file = try HDF5File.create("\(dir)/d.h5")
            var dims: [hsize_t] = [1 << 20, 1 << 20, 1 << 20]
            let space = H5Screate_simple(3, &dims, nil)
            let ds = H5Dcreate2(file.id, "data", chdf5_native_float(), space, chdf5_p_default(), chdf5_p_default(), chdf5_p_default())
            #expect(ds >= 0)
            H5Dclose(ds); H5Sclose(space)
            try file.write("label", floats: [0], shape: [1])
        }
        expectCleanFailure(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]), ["dataset \"data\"", "impossible shape"])
    }

    @Test func localDamagedHDF5HasNoNetworkHint() throws {
        let dir = try project()
        try Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] + [UInt8](repeating: 0xff, count: 2048)).write(to: URL(fileURLWithPath: "\(dir)/bad.caffemodel.h5"))
        let r = try CLITests.run(["test", "--model", "\(dir)/net.prototxt", "--weights", "\(dir)/bad.caffemodel.h5"])
        expectCleanFailure(r, ["bad.caffemodel.h5"])
        #expect(!r.stderr.contains("NFS"), "\(r.stderr)")
    }

    // MARK: folders given as files

    @Test(arguments: ["--weights", "--snapshot", "convert"]) func folderGivenAsAFile(flag: String) throws {
        let dir = try project()
        let args = flag == "convert" ? ["convert-weights", dir, "\(dir)/out.caffemodel"]
            : ["train", "--solver", "\(dir)/solver.prototxt", flag, dir]
        expectCleanFailure(try CLITests.run(args), ["is a folder, not a file"])
    }

    // MARK: saving

    @Test(.enabled(if: isRoot)) func fullDiskKeepsThePreviousSnapshot() throws {
        try Self.withMount("size=64k") { mount in
            let dir = try project(snapshotPrefix: "\(mount)/snap", maxIter: 400, snapshot: 1)
            let r = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"])
            expectCleanFailure(r, ["cannot save", "No space left on device"])
            #expect(temporaries(in: mount).isEmpty)
            let saved = try FileManager.default.contentsOfDirectory(atPath: mount).filter { $0.hasSuffix(".caffemodel.h5") }
            #expect(!saved.isEmpty)
            for f in saved { #expect(try Checksum.verify("\(mount)/\(f)").checksum == .verified) }
        }
    }

    @Test(.enabled(if: isRoot)) func diskFullAtCreateTime() throws {
        try Self.withMount("size=64k") { mount in
            let dir = try project()
            #expect(Self.shell("dd if=/dev/zero of=\(mount)/fill bs=4k count=100") != 0)   // fills the disk
            let made = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"])
            #expect(made.status == 0, "\(made.stderr)")
            let r = try CLITests.run(["convert-weights", "\(dir)/snap_iter_10.caffemodel.h5", "\(mount)/w.caffemodel"])
            expectCleanFailure(r, ["cannot save", "No space left on device"])
            #expect(!r.stderr.contains("check that the folder exists"))
            #expect(temporaries(in: mount).isEmpty)
        }
    }

    @Test(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"))) func fsyncFailureIsAnError() throws {
        let dir = try project()
        let r = try CLITests.run(["/usr/bin/strace", "-f", "-qq", "-o", "/dev/null", "-e", "inject=fsync:error=EIO", CLITests.binary,
                                  "train", "--solver", "\(dir)/solver.prototxt"], direct: true)
        expectCleanFailure(r, ["fsync", "Input/output error"])
        #expect(temporaries(in: dir).isEmpty)
    }

    @Test(.enabled(if: isRoot)) func readOnlySnapshotFolderFailsBeforeTraining() throws {
        try Self.withMount("ro,size=64k") { mount in
            let dir = try project(snapshotPrefix: "\(mount)/snap")
            let r = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"])
            expectCleanFailure(r, ["snapshots cannot be saved", "Read-only file system"])
            #expect(!r.stderr.contains("Iteration 0,") && !r.stderr.contains("Iteration 1 "), "trained before failing: \(r.stderr)")
        }
    }

    @Test(arguments: ["HDF5", "BINARYPROTO"]) func missingSnapshotFolderIsCreated(format: String) throws {
        let base = temporaryDirectory()
        let dir = try project(snapshotPrefix: "\(base)/new/folder/snap", format: format)
        let r = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(r.status == 0, "\(r.stderr)")
        let ext = format == "HDF5" ? ".caffemodel.h5" : ".caffemodel"
        #expect(FileManager.default.fileExists(atPath: "\(base)/new/folder/snap_iter_10\(ext)"))
    }

    @Test func staleTemporariesAreRemoved() throws {
        let dir = try project()
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = "\(dir)/snap_iter_5.caffemodel.h5.tmp-\(gone.processIdentifier)"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: stale))
        let r = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(r.stderr.contains("Removed \(stale)"))
    }

    // MARK: damaged files

    /// Flips one byte at many places of every file a run writes; each flip must be refused on
    /// load and by `verify` (a flip in the checksum itself too: the file no longer proves itself).
    @Test(arguments: ["HDF5", "BINARYPROTO"]) func flippedBytesAreRefused(format: String) throws {
        let dir = try project(format: format)
        let r = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(r.status == 0, "\(r.stderr)")
        let suffix = format == "HDF5" ? ".h5" : ""
        for file in ["snap_iter_10.caffemodel\(suffix)", "snap_iter_10.solverstate\(suffix)"] {
            let path = "\(dir)/\(file)"
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(try Checksum.verify(path).checksum == .verified)
            var accepted: [Int] = []
            let positions = Set(stride(from: 0, to: original.count, by: max(1, original.count / 40)).map { $0 } + [original.count - 1, original.count - 40])
            for at in positions.sorted() {
                var damaged = original
                damaged[at] ^= 0x10
                try damaged.write(to: URL(fileURLWithPath: path))
                if (try? Checksum.verify(path)) != nil { accepted.append(at) }
            }
            #expect(accepted.isEmpty, "\(file): flips accepted at \(accepted) of \(original.count) bytes")
            try original.write(to: URL(fileURLWithPath: path))
        }
        // Through the commands: verify and resume refuse a damaged state; --no-verify loads it.
        let state = "\(dir)/snap_iter_10.solverstate\(suffix)"
        var damaged = try Data(contentsOf: URL(fileURLWithPath: state))
        damaged[damaged.count / 2] ^= 0x01
        try damaged.write(to: URL(fileURLWithPath: state))
        expectCleanFailure(try CLITests.run(["verify", state]), ["is damaged"])
        expectCleanFailure(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", state]), ["is damaged", "--no-verify"])
    }

    /// `--no-verify` loads a damaged file of either format: weights in `test`, a state in
    /// `train --snapshot`. HDF5 files used to be checked a second time, without the flag, in
    /// the child that reads them, and were refused after the warning.
    @Test(arguments: ["HDF5", "BINARYPROTO"]) func noVerifyLoadsDamagedFiles(format: String) throws {
        let dir = try project(format: format)
        #expect(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]).status == 0)
        let suffix = format == "HDF5" ? ".h5" : ""
        let weights = "\(dir)/snap_iter_10.caffemodel\(suffix)", state = "\(dir)/snap_iter_10.solverstate\(suffix)"
        for path in [weights, state] {
            // In the stored digest, so that the checksum fails and the contents still read.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count - 10] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let test = ["test", "--model", "\(dir)/net.prototxt", "--weights", weights, "--iterations", "1"]
        expectCleanFailure(try CLITests.run(test), ["is damaged", "--no-verify"])
        let loaded = try CLITests.run(test + ["--no-verify"])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.stderr.contains("loading it anyway because of --no-verify"))
        let resumed = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", state, "--no-verify"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    /// Every command that loads weights takes `--no-verify`, which their errors suggest.
    @Test(arguments: ["classify", "extract-features", "export-onnx"]) func everyLoadingCommandTakesNoVerify(command: String) throws {
        let r = try CLITests.run([command, "--help"])
        #expect(r.stdout.contains("--no-verify"), "\(r.stdout)")
    }

    /// A truncated snapshot says so, with the sizes, and names the newest intact one of the
    /// same prefix (a damaged newer one is passed over).
    @Test func truncatedSnapshotNamesTheNewestIntactOne() throws {
        let dir = try project(maxIter: 15)
        #expect(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]).status == 0)
        let whole = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/snap_iter_15.caffemodel.h5"))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: "\(dir)/snap_iter_15.caffemodel.h5"))
        var damaged = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/snap_iter_10.caffemodel.h5"))
        damaged[100] ^= 0x01
        try damaged.write(to: URL(fileURLWithPath: "\(dir)/snap_iter_10.caffemodel.h5"))
        let r = try CLITests.run(["test", "--model", "\(dir)/net.prototxt", "--weights", "\(dir)/snap_iter_15.caffemodel.h5", "--iterations", "1"])
        expectCleanFailure(r, ["snap_iter_15.caffemodel.h5 is truncated", "has \(whole.count / 2) bytes of the", "snap_iter_5.caffemodel.h5"])
        expectCleanFailure(try CLITests.run(["verify", "\(dir)/snap_iter_15.caffemodel.h5"]), ["is truncated"])
    }

    /// Bytes after Cortado's checksum line are damage, not part of a foreign file.
    @Test func bytesAfterTheChecksumLineAreRefused() throws {
        let dir = try project()
        #expect(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]).status == 0)
        let path = "\(dir)/snap_iter_10.caffemodel.h5"
        try (try Data(contentsOf: URL(fileURLWithPath: path)) + Data("extra\n".utf8)).write(to: URL(fileURLWithPath: path))
        expectCleanFailure(try CLITests.run(["verify", path]), ["is damaged", "6 bytes were added after its checksum line"])
    }

    /// `verify snapshots/*` names a run's other files too: they are skipped with a note.
    @Test func verifySkipsFilesThatAreNotSnapshots() throws {
        let dir = try project()
        #expect(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]).status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("snap") }.map { "\(dir)/\($0)" }
        #expect(files.contains { $0.hasSuffix("_run.json") })
        let r = try CLITests.run(["verify"] + files + ["\(dir)/solver.prototxt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("snap_run.json: skipped, not a snapshot"))
        #expect(r.stdout.contains("snap_iter_10.caffemodel.h5: ok"))
    }

    /// LMDB reads through a memory map: a truncated data.mdb was a SIGBUS (exit 135) in
    /// compute-image-mean and test. Every cut that keeps LMDB's two header pages is an error.
    @Test func truncatedLMDBIsAnError() throws {
        let dir = temporaryDirectory()
        let list = try ImageDataTests.makeFolder(dir)
        #expect(try CLITests.run(["convert-imageset", dir + "/", list, "\(dir)/lmdb", "--resize_height", "32", "--resize_width", "32"]).status == 0)
        let file = "\(dir)/lmdb/data.mdb"
        let whole = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(whole.count >= 3 * 4096, "the database should span several pages: \(whole.count)")
        for cut in stride(from: 2 * 4096, to: whole.count, by: 4096) {
            try whole.prefix(cut).write(to: URL(fileURLWithPath: file))
            expectCleanFailure(try CLITests.run(["compute-image-mean", "\(dir)/lmdb", "\(dir)/mean.binaryproto"]), ["is truncated", "data.mdb has \(cut) bytes"])
        }
    }

    /// convert-imageset: ROOT without its slash works; an unreadable image is skipped with a
    /// warning (as in Caffe); a conversion that fails leaves no database behind.
    @Test func convertImagesetSkipsAndCleansUp() throws {
        let dir = temporaryDirectory()
        let list = try ImageDataTests.makeFolder(dir)
        let lines = try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n")
        try write((lines + ["missing.png 1"]).joined(separator: "\n") + "\n", to: "\(dir)/with-missing.txt")
        let r = try CLITests.run(["convert-imageset", dir, "\(dir)/with-missing.txt", "\(dir)/lmdb"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("skipping \(dir)/missing.png") && r.stderr.contains("skipped 1 of \(lines.count + 1)"))
        #expect(try LMDB.openForReading("\(dir)/lmdb").count == lines.count)
        try write("missing.png 0\nalso-missing.png 1\n", to: "\(dir)/none.txt")
        expectCleanFailure(try CLITests.run(["convert-imageset", dir, "\(dir)/none.txt", "\(dir)/empty"]), ["none of the 2 images"])
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/empty"), "a failed conversion must not leave a database")
    }

    /// Each blob under the single-blob limit (half the memory), three of them over the whole.
    @Test(arguments: ["validate", "summary"]) func netLargerThanTheMachineIsRefused(command: String) throws {
        let dir = temporaryDirectory()
        let floats = Int(Double(ProcessInfo.processInfo.physicalMemory) * 0.4 / 8)
        try write("""
            name: "huge"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: \(floats) } } }
            layer { name: "a" type: "Power" bottom: "data" top: "a" }
            layer { name: "b" type: "Power" bottom: "a" top: "b" }
            """, to: "\(dir)/huge.prototxt")
        expectCleanFailure(try CLITests.run([command, "\(dir)/huge.prototxt"]), ["huge.prototxt:1:1", "more than this machine's", "of memory"])
    }

    @Test func verifyReportsCaffesFilesAsStructureOnly() throws {
        let dir = try project()
        let r = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(r.status == 0, "\(r.stderr)")
        // A file without a checksum, as Caffe writes them: the HDF5 image without Cortado's line.
        let sealed = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/snap_iter_10.caffemodel.h5"))
        try sealed.prefix(sealed.count - Checksum.hdf5TrailerSize).write(to: URL(fileURLWithPath: "\(dir)/caffe.caffemodel.h5"))
        let v = try CLITests.run(["verify", "\(dir)/snap_iter_10.caffemodel.h5", "\(dir)/caffe.caffemodel.h5"])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdout.contains("snap_iter_10.caffemodel.h5: ok, HDF5 weights") && v.stdout.contains("checksum verified"))
        #expect(v.stdout.contains("caffe.caffemodel.h5: ok") && v.stdout.contains("structure only"))
    }

    // MARK: libhdf5's own crashes

    /// A file the fuzzer found that makes libhdf5 1.10.8 dereference a null pointer: read by a
    /// child process, so the command reports it instead of dying.
    @Test func fileThatCrashesLibHDF5IsAnError() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/fuzz/libhdf5-segv.h5").standardized.path
        let dir = try project()
        expectCleanFailure(try CLITests.run(["verify", fixture]), ["libhdf5 crashed", "libhdf5-segv.h5"])
        expectCleanFailure(try CLITests.run(["test", "--model", "\(dir)/net.prototxt", "--weights", fixture, "--iterations", "1"]), ["libhdf5 crashed"])
        expectCleanFailure(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", fixture]), ["libhdf5-segv.h5"])
    }

    /// Weights and states without Cortado's checksum (as Caffe writes them) load through the child.
    @Test func uncheckedHDF5FilesLoadThroughTheChild() throws {
        let dir = try project()
        #expect(try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt"]).status == 0)
        for file in ["snap_iter_5.caffemodel.h5", "snap_iter_5.solverstate.h5"] {
            let sealed = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(file)"))
            try sealed.prefix(sealed.count - Checksum.hdf5TrailerSize).write(to: URL(fileURLWithPath: "\(dir)/\(file)"))
        }
        let r = try CLITests.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", "\(dir)/snap_iter_5.solverstate.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("Restoring weights from"))
    }
}
