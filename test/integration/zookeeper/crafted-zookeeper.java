// A standalone ZooKeeper server whose state a test can craft: run with Java's source launcher,
// `java -cp "/usr/share/java/*" crafted-zookeeper.java <dataDir>` (ZooKeeper's server jars
// from Debian's zookeeper package). It serves on 127.0.0.1 at a free port, prints
// `port <n>`, then reads commands from stdin, one a line, and answers each with one line:
//
//   cversion <path> <n>   sets the node's child version (the counter that names sequential
//                         children) in the server's memory: `ok`, or `no-node`.
//
// Why this way: reaching a cversion near 2^31 by creating children takes two billion writes;
// a snapshot written by hand would tie the test to the snapshot format. Setting the field in
// the running server's DataTree is one line, and the server then names, orders and persists
// everything exactly as it would have. The server stops when stdin closes.
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import org.apache.zookeeper.server.DataNode;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

public class CraftedZooKeeper {
  public static void main(String[] args) throws Exception {
    File dataDir = new File(args[0]);
    ZooKeeperServer server = new ZooKeeperServer(dataDir, dataDir, 500);
    ServerCnxnFactory factory =
        ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
    factory.startup(server);
    System.out.println("port " + factory.getLocalPort());
    System.out.flush();
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    for (String line = commands.readLine(); line != null; line = commands.readLine()) {
      String[] words = line.trim().split(" ");
      if (words.length == 3 && words[0].equals("cversion")) {
        DataNode node = server.getZKDatabase().getDataTree().getNode(words[1]);
        if (node == null) {
          System.out.println("no-node");
        } else {
          synchronized (node) {
            node.stat.setCversion(Integer.parseInt(words[2]));
          }
          System.out.println("ok");
        }
      } else {
        System.out.println("unknown " + line);
      }
      System.out.flush();
    }
    factory.shutdown();
    server.shutdown();
  }
}
