// Starts DynamoDB Local bound to 127.0.0.1 only.
//
// Usage (Java 11+ single-file source launch; cmd/local/emulator runs it):
//   java -cp DynamoDBLocal.jar DynamoDBLocalLoopback.java -inMemory -port 8000 -disableTelemetry
//
// DynamoDB Local's own main (ServerRunner) has no bind-address option: its Jetty server listens
// on every interface. This launcher builds the server with the same command-line parsing, moves
// its connectors to 127.0.0.1 before starting it, and prints one line,
// "DynamoDB Local listening on 127.0.0.1:PORT", once it accepts connections.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public class DynamoDBLocalLoopback {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        if (proxy == null) { // -help or a usage error, already printed
            System.exit(2);
        }
        // The Jetty server is a private field; DynamoDBLocal.jar is on the class path (unnamed
        // module), so reflection may open it.
        Field f = DynamoDBProxyServer.class.getDeclaredField("server");
        f.setAccessible(true);
        Server server = (Server) f.get(proxy);
        int port = -1;
        for (Connector c : server.getConnectors()) {
            ServerConnector sc = (ServerConnector) c;
            sc.setHost("127.0.0.1");
            port = sc.getPort();
        }
        proxy.start();
        for (Connector c : server.getConnectors()) {
            port = ((ServerConnector) c).getLocalPort();
        }
        System.out.println("DynamoDB Local listening on 127.0.0.1:" + port);
    }
}
