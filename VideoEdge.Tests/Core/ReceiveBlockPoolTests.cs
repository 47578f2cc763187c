using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using VideoEdge.Hosting;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>
/// Kestrel's memory pool with large blocks (why: a pushed 720p frame was received in ~30 reads of 4 KiB): that the
/// server's Kestrel gets it, that a block is the size the socket transport then receives into, and that blocks are
/// reused without allocating and kept only up to the cap.
/// </summary>
public sealed class ReceiveBlockPoolTests
{
    [Fact]
    public async Task The_server_gives_kestrel_64_KiB_blocks()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--resolution", "320x240");
        // Kestrel's socket transport takes its pools from this service (one per I/O queue) at bind time.
        var factory = server.App.Services.GetRequiredService<IMemoryPoolFactory<byte>>();
        Assert.IsType<ReceiveBlockPoolFactory>(factory);
        using var pool = factory.Create();
        Assert.Equal(64 * 1024, pool.MaxBufferSize);
        // The socket transport's pipe asks for 4 KiB and receives into all of what it gets.
        using var block = pool.Rent(4096);
        Assert.Equal(64 * 1024, block.Memory.Length);
    }

    [Fact]
    public void A_returned_block_is_rented_again_and_steady_renting_allocates_nothing()
    {
        using var pool = new ReceiveBlockPool(16 * 1024, 4);
        var first = pool.Rent();
        first.Memory.Span[0] = 42;
        first.Dispose();
        var again = pool.Rent();
        Assert.Same(first, again);
        // Two blocks in use at once from here on: the second is made now.
        var second = pool.Rent();
        again.Dispose();
        second.Dispose();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            var a = pool.Rent(2048);
            var b = pool.Rent();
            a.Dispose();
            b.Dispose();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void At_most_the_cap_of_free_blocks_is_kept()
    {
        using var pool = new ReceiveBlockPool(1024, 2);
        var blocks = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        Assert.Equal(5, blocks.Distinct().Count());
        foreach (var block in blocks)
        {
            block.Dispose();
        }
        // Two come back from the pool, the third is new.
        var rented = Enumerable.Range(0, 3).Select(_ => pool.Rent()).ToList();
        Assert.Equal(2, rented.Count(blocks.Contains));
    }

    [Fact]
    public void More_than_a_block_is_refused_and_a_disposed_pool_rents_nothing()
    {
        var pool = new ReceiveBlockPool(1024, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(1025));
        var block = pool.Rent(1024);
        pool.Dispose();
        block.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }
}
