import CBrotli
import CZstd
import CompressNIO
import NIOCore

/// Encodes a response body as it streams through the proxy, for the `compress` middleware. Each piece is flushed,
/// so the client can decode everything received so far (a slow stream is never held back).
protocol BodyEncoder: AnyObject {
    /// The encoded form of `buffer`, flushed.
    func encode(_ buffer: inout ByteBuffer, allocator: ByteBufferAllocator) throws -> ByteBuffer
    /// The end of the encoded stream.
    func finish(allocator: ByteBufferAllocator) throws -> ByteBuffer
}

/// An encoder of a C library that takes its input with a directive: flush what it has, or end the stream.
protocol FlushingEncoder: BodyEncoder {
    func run(_ input: ByteBuffer, finishing: Bool, allocator: ByteBufferAllocator) throws -> ByteBuffer
}

extension FlushingEncoder {
    func encode(_ buffer: inout ByteBuffer, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let output = try run(buffer, finishing: false, allocator: allocator)
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return output
    }

    func finish(allocator: ByteBufferAllocator) throws -> ByteBuffer {
        try run(allocator.buffer(capacity: 0), finishing: true, allocator: allocator)
    }
}

struct BodyEncoderError: Error, CustomStringConvertible {
    var description: String
}

enum BodyEncoders {
    /// An encoder for a `Content-Encoding` the compress middleware negotiated; nil for one it does not produce.
    static func make(_ encoding: String) -> (any BodyEncoder)? {
        switch encoding {
        case "gzip": return try? GzipBodyEncoder()
        case "br": return BrotliBodyEncoder()
        case "zstd": return ZstdBodyEncoder()
        default: return nil
        }
    }
}

/// gzip through compress-nio's zlib.
final class GzipBodyEncoder: BodyEncoder {
    private let compressor: any NIOCompressor

    init() throws {
        compressor = CompressionAlgorithm.gzip().compressor
        try compressor.startStream()
    }

    func encode(_ buffer: inout ByteBuffer, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        try buffer.compressStream(with: compressor, flush: .sync, allocator: allocator)
    }

    func finish(allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var empty = allocator.buffer(capacity: 0)
        let last = try empty.compressStream(with: compressor, flush: .finish, allocator: allocator)
        try compressor.finishStream()
        return last
    }
}

/// Brotli (`br`) through libbrotlienc, quality 5 and a 1 MiB window: most of the gain of higher settings for a
/// fraction of the CPU and memory per response.
final class BrotliBodyEncoder: FlushingEncoder {
    private let state: OpaquePointer?

    init() {
        state = BrotliEncoderCreateInstance(nil, nil, nil)
        if let state {
            BrotliEncoderSetParameter(state, BROTLI_PARAM_QUALITY, 5)
            BrotliEncoderSetParameter(state, BROTLI_PARAM_LGWIN, 20)
        }
    }

    deinit {
        if let state { BrotliEncoderDestroyInstance(state) }
    }

    /// Feeds `input` and collects everything the encoder puts out until it is done with it.
    func run(_ input: ByteBuffer, finishing: Bool, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let operation = finishing ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_FLUSH
        guard let state else { throw BodyEncoderError(description: "the brotli encoder could not be created") }
        var output = allocator.buffer(capacity: input.readableBytes / 2 + 64)
        try input.withUnsafeReadableBytes { raw in
            var available = raw.count
            var next = raw.bindMemory(to: UInt8.self).baseAddress
            var availableOut = 0
            // Bounded: each round consumes input or drains output, and the encoder holds at most its window.
            for _ in 0..<1_000_000 {
                guard BrotliEncoderCompressStream(state, operation, &available, &next, &availableOut, nil, nil) != 0 else {
                    throw BodyEncoderError(description: "the brotli encoder failed")
                }
                var size = 0
                if let bytes = BrotliEncoderTakeOutput(state, &size), size > 0 {
                    output.writeBytes(UnsafeRawBufferPointer(start: bytes, count: size))
                }
                let done = finishing
                    ? BrotliEncoderIsFinished(state) != 0
                    : available == 0 && BrotliEncoderHasMoreOutput(state) == 0
                if done { return }
            }
            throw BodyEncoderError(description: "the brotli encoder did not finish")
        }
        return output
    }
}

/// Zstandard (`zstd`) through libzstd, level 3 (its default), with the window capped at 8 MiB as RFC 8878 asks of
/// HTTP content coding.
final class ZstdBodyEncoder: FlushingEncoder {
    private let context: OpaquePointer?

    init() {
        context = ZSTD_createCCtx()
        if let context {
            ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3)
            ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, 23)
        }
    }

    deinit {
        if let context { ZSTD_freeCCtx(context) }
    }

    func run(_ input: ByteBuffer, finishing: Bool, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let directive = finishing ? ZSTD_e_end : ZSTD_e_flush
        guard let context else { throw BodyEncoderError(description: "the zstd encoder could not be created") }
        var output = allocator.buffer(capacity: max(input.readableBytes / 2 + 64, 256))
        try input.withUnsafeReadableBytes { raw in
            var source = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
            for _ in 0..<1_000_000 {
                var left = 0
                try output.writeWithUnsafeMutableBytes(minimumWritableBytes: 4096) { target in
                    var sink = ZSTD_outBuffer(dst: target.baseAddress, size: target.count, pos: 0)
                    left = ZSTD_compressStream2(context, &sink, &source, directive)
                    if ZSTD_isError(left) != 0 {
                        throw BodyEncoderError(description: "the zstd encoder failed: \(String(cString: ZSTD_getErrorName(left)))")
                    }
                    return sink.pos
                }
                // Done when the input is consumed and nothing is left to flush.
                if left == 0 && source.pos == source.size { return }
            }
            throw BodyEncoderError(description: "the zstd encoder did not finish")
        }
        return output
    }
}
