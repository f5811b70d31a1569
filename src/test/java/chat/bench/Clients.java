package chat.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/** Opening, awaiting and dropping many {@link BenchSocket}s at once. */
final class Clients {

    private Clients() {
    }

    /**
     * Opens {@code count} sockets from {@code fromOffset}, at most {@code concurrency} handshakes at a time; socket
     * {@code i} to the context's node {@code i % nodes} (one server: all to it).
     */
    static List<BenchSocket> connect(BenchContext context, int count, long fromOffset, int concurrency, long deadline)
            throws InterruptedException, TimeoutException, ExecutionException {
        return connect(context, count, i -> null, fromOffset, concurrency, deadline);
    }

    /** The same, socket {@code i} in room {@code roomOf(i)} (null: a v1 client, in general). */
    static List<BenchSocket> connect(BenchContext context, int count, IntFunction<String> roomOf, long fromOffset,
            int concurrency, long deadline) throws InterruptedException, TimeoutException, ExecutionException {
        Semaphore handshakes = new Semaphore(concurrency);
        List<CompletableFuture<BenchSocket>> opening = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                if (!handshakes.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new TimeoutException("only " + i + " of " + count + " connections opened in time");
                }
                opening.add(context.client.open(context.serverFor(i).chatUri(),
                        WsClient.query(roomOf.apply(i), fromOffset, context.framesAsLines), fromOffset)
                        .whenComplete((socket, failure) -> handshakes.release()));
            }
            CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new))
                    .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException | TimeoutException | ExecutionException e) {
            opening.forEach(f -> f.thenAccept(BenchSocket::abort));
            throw e;
        }
        List<BenchSocket> sockets = new ArrayList<>(count);
        for (CompletableFuture<BenchSocket> socket : opening) {
            sockets.add(socket.join());
        }
        return sockets;
    }

    static Thread started(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    static void awaitSynced(List<BenchSocket> sockets, long deadline) throws InterruptedException, TimeoutException {
        for (BenchSocket socket : sockets) {
            if (!socket.awaitSynced(Math.max(0, deadline - System.nanoTime()))) {
                long synced = sockets.stream().filter(BenchSocket::isSynced).count();
                throw new TimeoutException(synced + " of " + sockets.size() + " connections synced in time; first"
                        + " problem: " + firstProblem(sockets));
            }
        }
    }

    static String firstProblem(List<BenchSocket> sockets) {
        return sockets.stream().map(BenchSocket::firstError).filter(e -> e != null).findFirst().orElse("none seen");
    }

    static void abortAll(List<BenchSocket> sockets) {
        sockets.forEach(BenchSocket::abort);
    }

    /** Runs every sender's windowed {@link Sender#sendAll} on a thread of its own and waits for all answers. */
    static void sendAll(List<Sender> senders, int window, long deadline) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (Sender sender : senders) {
            threads.add(started("sender-" + sender.id, () -> {
                try {
                    sender.sendAll(window, deadline);
                } catch (Exception e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        for (Sender sender : senders) {
            if (!sender.awaitAnswered(deadline)) {
                throw new TimeoutException("sender " + sender.id + " did not get every ack in time; "
                        + firstProblem(senders.stream().map(s -> s.socket).toList()));
            }
        }
    }
}
