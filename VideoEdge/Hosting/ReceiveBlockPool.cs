using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace VideoEdge.Hosting;

/// <summary>
/// Kestrel's memory pool, with blocks of <see cref="BlockSize"/> instead of its built-in 4 KiB. Kestrel's socket
/// transport receives into one pool block per read, so a producer pushing a 120 KB JPEG to /cams/NAME/ingest cost
/// ~30 reads per frame, each after a zero-byte "is there data" read, and as many hand-overs through the connection's
/// pipe to the WebSocket reader; with larger blocks a frame takes a few. Kestrel offers no per-connection choice (the
/// pool is per I/O queue), so every connection gets these blocks: one is rented only while received or written
/// bytes wait in a pipe (idle connections wait for data before they rent), and viewers' frames are not written
/// through the pipe on plain HTTP (<see cref="Viewers.SocketSink"/>).
/// </summary>
internal sealed class ReceiveBlockPoolFactory : IMemoryPoolFactory<byte>
{
    /// <summary>A loopback or LAN read rarely returns more than 64 KiB; a 720p JPEG (~120 KB) takes 2–4 reads.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>Free blocks a pool keeps (4 MiB): more are left to the GC.</summary>
    public const int MaxRetained = 64;

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new ReceiveBlockPool(BlockSize, MaxRetained);
}

/// <summary>Fixed-size blocks on the pinned object heap (the socket layer pins receive buffers; these need no handle), reused.</summary>
internal sealed class ReceiveBlockPool(int blockSize, int maxRetained) : MemoryPool<byte>
{
    // A queue, not a stack: ConcurrentStack allocates a node per push.
    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private volatile bool _disposed;

    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, blockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            return block;
        }
        return new Block(this, GC.AllocateUninitializedArray<byte>(blockSize, pinned: true));
    }

    private void Return(Block block)
    {
        if (_disposed)
        {
            return;
        }
        if (Interlocked.Increment(ref _freeCount) > maxRetained)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Enqueue(block);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private sealed class Block(ReceiveBlockPool pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);

        public void Dispose() => pool.Return(this);
    }
}
