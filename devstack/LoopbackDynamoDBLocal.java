// DynamoDB Local on 127.0.0.1 only: its command line has no bind address (its Jetty server
// listens on every interface), so this launcher sets the connector's host before starting it.
// Run as a single-file program (`java -cp DynamoDBLocal.jar LoopbackDynamoDBLocal.java PORT ARGS`);
// devstack/dynamodb_local.py starts it. PORT 0 picks a free port; the chosen one is printed as
// "listening on 127.0.0.1:PORT". The server stops when standard input closes, so it never
// outlives the Python process that started it, however that process ends.
import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    private LoopbackDynamoDBLocal() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        DynamoDBProxyServer proxy =
                ServerRunner.createServerFromCommandLineArgs(Arrays.copyOfRange(args, 1, args.length));
        Field jettyField = DynamoDBProxyServer.class.getDeclaredField("server");
        jettyField.setAccessible(true);
        Server jetty = (Server) jettyField.get(proxy);
        ServerConnector connector = (ServerConnector) jetty.getConnectors()[0];
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        proxy.start();
        System.out.println("listening on 127.0.0.1:" + connector.getLocalPort());
        System.out.flush();
        while (System.in.read() != -1) {
            // Nothing is sent on stdin; end of file means the parent process is gone.
        }
        proxy.stop();
        System.exit(0);
    }
}
