"""caffe_pb2 keeps in step with the Swift Schema that prototxt files are checked against."""
import json

import cortado
from cortado.net_spec import _is_repeated
from caffe.proto import caffe_pb2

KINDS = {"int": {3, 4, 5, 13, 17, 18}, "float": {1, 2}, "bool": {8}, "string": {9, 12}, "enum": {14}}


def test_every_schema_field_is_in_caffe_pb2_with_its_kind():
    schema = cortado._take_json(cortado._library.cortado_schema())
    problems = []
    for message, fields in schema.items():
        descriptor = caffe_pb2.DESCRIPTOR.message_types_by_name.get(message)
        if descriptor is None:
            problems.append("message %s" % message)
            continue
        for name, (kind, repeated) in fields.items():
            field = descriptor.fields_by_name.get(name)
            if field is None:
                problems.append("%s.%s" % (message, name))
                continue
            is_repeated = _is_repeated(field)
            if kind.startswith("@"):
                ok = field.message_type is not None and field.message_type.name == kind[1:]
            elif kind == "?":
                ok = field.message_type is not None
            else:
                ok = field.type in KINDS[kind]
            if not ok or is_repeated != repeated:
                problems.append("%s.%s is %s%s here" % (message, name, "repeated " if repeated else "", kind))
    assert problems == []


def test_the_schema_covers_every_layer_message():
    layer = caffe_pb2.LayerParameter.DESCRIPTOR
    params = {f.name for f in layer.fields if f.name.endswith("_param")}
    schema = cortado._take_json(cortado._library.cortado_schema())
    assert "python_param" in schema["LayerParameter"]
    assert params - set(schema["LayerParameter"]) <= {"memory_data_param", "hdf5_output_param", "window_data_param"}


def test_the_swift_sides_binary_subset_agrees_with_caffe_proto(tmp_path):
    """proto/caffe_subset.proto (what the Swift code reads and writes in binary) and
    proto/caffe.proto (caffe_pb2) are two files: each field they share has one number and type."""
    import os
    import shutil
    import subprocess
    import pytest
    from google.protobuf import descriptor_pb2
    if shutil.which("protoc-c") is None:
        pytest.skip("protoc-c (protobuf-c-compiler) is not installed")
    proto = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto")
    out = str(tmp_path / "subset.desc")
    subprocess.check_call(["protoc-c", "-o", out, "-I", proto, os.path.join(proto, "caffe_subset.proto")])
    files = descriptor_pb2.FileDescriptorSet()
    files.ParseFromString(open(out, "rb").read())
    enum_type, int32_type = 14, 5   # the same varint on the wire
    problems = []
    for message in files.file[0].message_type:
        if message.name == "CortadoLayerState":   # Cortado's own (SolverState field 1701)
            continue
        full = caffe_pb2.DESCRIPTOR.message_types_by_name[message.name]
        for field in message.field:
            if message.name == "SolverState" and field.name == "cortado_layer_state":
                continue
            other = full.fields_by_name.get(field.name)
            if other is None or other.number != field.number or \
                    not (other.type == field.type or {other.type, field.type} == {enum_type, int32_type}):
                problems.append("%s.%s" % (message.name, field.name))
    assert problems == []
