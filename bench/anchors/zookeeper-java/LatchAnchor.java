// The ZooKeeper anchors of the handoff benchmark, built from Debian's libcurator-recipes-java:
// Curator's LeaderLatch, and the Java-client floor, a delete seen by a data watch on a second
// session.
//
// Usage: java -cp "/usr/share/java/*:." LatchAnchor <connect> latch|floor settled|fresh <rounds> [waiters]
// Prints one JSON object: {"peer":…,"waiter":…,"waiters":…,"samples":[ms…]}.
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;

public final class LatchAnchor {
  private static final int WARMUP = 10;
  private static final long SETTLE_MS = 250;

  public static void main(String[] args) throws Exception {
    String connect = args[0];
    String mode = args[1];
    boolean fresh = args[2].equals("fresh");
    int rounds = Integer.parseInt(args[3]);
    int waiters = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    List<Double> samples = new ArrayList<>();
    if (mode.equals("latch")) latch(connect, fresh, rounds, waiters, samples);
    else floor(connect, rounds, samples);
    StringBuilder out = new StringBuilder();
    out.append("{\"peer\":\"")
        .append(mode.equals("latch") ? "Curator LeaderLatch" : "floor (Java client)")
        .append("\",\"waiter\":\"").append(args[2])
        .append("\",\"waiters\":").append(waiters).append(",\"samples\":[");
    for (int i = 0; i < samples.size(); i++) out.append(i == 0 ? "" : ",").append(samples.get(i));
    System.out.println(out.append("]}"));
    System.exit(0);
  }

  private static CuratorFramework client(String connect) throws InterruptedException {
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(connect, 10_000, 5_000, new RetryOneTime(100));
    client.start();
    if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) throw new IllegalStateException("no connection");
    return client;
  }

  /**
   * One leader and `waiters` others, each on its own session; each round the leader closes its
   * latch, and the time until the next one's isLeader() callback is measured. The closed one
   * rejoins at the back, so the line keeps its length.
   */
  private static void latch(String connect, boolean fresh, int rounds, int waiters, List<Double> samples)
      throws Exception {
    String path = "/bench-latch-" + System.nanoTime();
    int size = waiters + 1;
    CuratorFramework[] clients = new CuratorFramework[size];
    LeaderLatch[] latches = new LeaderLatch[size];
    CountDownLatch[] elected = new CountDownLatch[size];
    for (int i = 0; i < size; i++) {
      clients[i] = client(connect);
      elected[i] = new CountDownLatch(1);
      latches[i] = start(clients[i], path, i, elected);
      // Join in order, so that line order is index order.
      awaitChildren(clients[0], path, i + 1);
    }
    if (!elected[0].await(10, TimeUnit.SECONDS)) throw new IllegalStateException("no first leader");
    int leader = 0;
    for (int round = 0; round < WARMUP + rounds; round++) {
      int next = (leader + 1) % size;
      // The candidate that closed last round rejoined at the back just now: with one waiter,
      // "fresh" hands over to it at once; "settled" lets it sit in line first.
      if (!fresh) Thread.sleep(SETTLE_MS);
      long started = System.nanoTime();
      latches[leader].close(LeaderLatch.CloseMode.SILENT);
      if (!elected[next].await(10, TimeUnit.SECONDS)) throw new IllegalStateException("no successor");
      long took = System.nanoTime() - started;
      if (round >= WARMUP) samples.add(took / 1e6);
      elected[leader] = new CountDownLatch(1);
      latches[leader] = start(clients[leader], path, leader, elected);
      awaitChildren(clients[next], path, size);
      leader = next;
    }
    for (int i = 0; i < size; i++) {
      latches[i].close(LeaderLatch.CloseMode.SILENT);
      clients[i].close();
    }
  }

  private static LeaderLatch start(CuratorFramework client, String path, int index, CountDownLatch[] elected)
      throws Exception {
    LeaderLatch latch = new LeaderLatch(client, path, "c" + index);
    latch.addListener(new org.apache.curator.framework.recipes.leader.LeaderLatchListener() {
      @Override public void isLeader() { elected[index].countDown(); }
      @Override public void notLeader() {}
    });
    latch.start();
    return latch;
  }

  private static void awaitChildren(CuratorFramework client, String path, int count) throws Exception {
    for (;;) {
      if (client.checkExists().forPath(path) != null
          && client.getChildren().forPath(path).size() >= count) return;
    }
  }

  /** A node created on one session, watched by a second, deleted: the delete's notice time. */
  private static void floor(String connect, int rounds, List<Double> samples) throws Exception {
    CuratorFramework writer = client(connect);
    CuratorFramework reader = client(connect);
    for (int round = 0; round < WARMUP + rounds; round++) {
      String path = "/bench-floor-" + System.nanoTime();
      writer.create().withMode(CreateMode.EPHEMERAL).forPath(path);
      CountDownLatch gone = new CountDownLatch(1);
      reader.getZookeeperClient().getZooKeeper().exists(path, event -> {
        if (event.getType() == Watcher.Event.EventType.NodeDeleted) gone.countDown();
      });
      long started = System.nanoTime();
      writer.delete().forPath(path);
      if (!gone.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("no delete seen");
      long took = System.nanoTime() - started;
      if (round >= WARMUP) samples.add(took / 1e6);
    }
    writer.close();
    reader.close();
  }
}
