"""Generated protobuf/gRPC code for protos/coach.proto. Do not edit: run
``python -m coach_backend.stream.gen_proto``."""
