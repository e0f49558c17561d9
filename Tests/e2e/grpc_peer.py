#!/usr/bin/env python3
"""A gRPC server and client for the end-to-end tests, without generated code (raw bytes messages).

    grpc_peer.py serve PORT [CERT KEY]      # service test.Echo on 127.0.0.1:PORT (h2c, or TLS): Unary, Chat, Fail
    grpc_peer.py call TARGET [CA NAME]      # calls the three methods through TARGET, prints JSON
"""

import json
import os
import sys
import time

import grpc


def serve(port, cert=None, key=None):
    from concurrent import futures

    def unary(request, context):
        context.set_trailing_metadata((("x-served-by", "grpc-peer"),))
        return b"echo:" + request

    def chat(requests, context):
        for message in requests:
            yield b"re:" + message

    def fail(request, context):
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    handler = grpc.method_handlers_generic_handler("test.Echo", {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    if cert:
        with open(cert, "rb") as c, open(key, "rb") as k:
            server.add_secure_port("127.0.0.1:%d" % port, grpc.ssl_server_credentials(((k.read(), c.read()),)))
    else:
        server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("ready", flush=True)
    server.wait_for_termination(timeout=600)


def call(target, ca=None, name=None):
    if ca:
        with open(ca, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        channel = grpc.secure_channel(target, credentials, options=(("grpc.ssl_target_name_override", name),
                                                                    ("grpc.default_authority", name)))
    else:
        authority = os.environ.get("GRPC_PEER_AUTHORITY")
        channel = grpc.insecure_channel(target, options=(("grpc.default_authority", authority),) if authority else ())
    result = {}
    unary = channel.unary_unary("/test.Echo/Unary")
    response, call_info = unary.with_call(b"hello", timeout=10)
    result["unary"] = response.decode()
    result["trailers"] = dict(call_info.trailing_metadata() or ())
    chat = channel.stream_stream("/test.Echo/Chat")
    messages = [("m%d" % i).encode() * (i + 1) for i in range(20)]
    result["chat"] = [m.decode() for m in chat(iter(messages), timeout=10)]
    try:
        channel.unary_unary("/test.Echo/Fail")(b"x", timeout=10)
        result["fail"] = "no error"
    except grpc.RpcError as error:
        result["fail"] = [error.code().name, error.details()]
    try:
        channel.unary_unary("/test.Echo/Slow")(b"x", timeout=0.5)
    except grpc.RpcError as error:
        result["unknown"] = error.code().name
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), *(sys.argv[3:5] if len(sys.argv) > 4 else ()))
    else:
        call(sys.argv[2], *(sys.argv[3:5] if len(sys.argv) > 4 else ()))
