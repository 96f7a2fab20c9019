package io.peft4j.spark;

import org.apache.spark.sql.SparkSession;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on this machine: one Master and {@code n} Workers, each a separate JVM started with
 * {@link ProcessBuilder}, and a fake {@code SPARK_HOME} (its {@code jars/} folder holds
 * symbolic links to the given jars, a {@code RELEASE} file marks it a distribution) from which the Workers launch
 * their executor JVMs; the Master and Workers run from those jars too, as {@code sbin/start-master.sh} would. Used by
 * {@link StandaloneClusterIT}, {@link StandaloneClusterBench} and {@code scripts/spark/submit-check.sh} (through
 * {@link #main}); close it to kill every process it started, executors included.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.start(dir, 2, StandaloneCluster.classpath())) {
 *     SparkSession spark = cluster.session("my-job", 1).getOrCreate();
 *     ...
 * }
 * }</pre>
 */
final class StandaloneCluster implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path dir;
    private final Path sparkHome;
    private final List<String> classpath;
    private final List<String> jvmFlags;
    private final String masterUrl;
    private final Process master;
    private final List<Process> workers = new ArrayList<>();
    private final List<Path> workDirs = new ArrayList<>();

    private StandaloneCluster(Path dir, Path sparkHome, List<String> classpath, List<String> jvmFlags, int port)
            throws IOException {
        this.dir = dir;
        this.sparkHome = sparkHome;
        this.classpath = classpath;
        this.jvmFlags = jvmFlags;
        this.masterUrl = "spark://127.0.0.1:" + port;
        this.master = launch("master", Map.of(), List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", Integer.toString(port), "--webui-port", "0"));
    }

    /**
     * Starts a Master and {@code workers} Workers (1 core, 3 GB each) under {@code dir}, and waits until every
     * Worker has registered.
     *
     * @param sparkHomeJars the jars the Workers' executors get from {@code SPARK_HOME/jars}
     */
    static StandaloneCluster start(Path dir, int workers, List<String> sparkHomeJars) throws IOException,
            InterruptedException {
        Path home = Files.createDirectories(dir.resolve("spark-home"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        Files.writeString(home.resolve("RELEASE"), "peft4j test cluster: jars/ links the given jars\n");
        Set<String> names = new LinkedHashSet<>();
        for (String jar : sparkHomeJars) {
            Path p = Path.of(jar);
            String name = p.getFileName().toString();
            if (names.add(name)) {
                Files.createSymbolicLink(jars.resolve(name), p.toAbsolutePath());
            }
        }
        StandaloneCluster cluster = new StandaloneCluster(dir, home, classpath(), forwardedJvmFlags(), freePort());
        try {
            cluster.awaitLog(cluster.dir.resolve("master.log"), "I have been elected leader");
            for (int i = 0; i < workers; i++) {
                cluster.addWorker();
            }
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * Starts a cluster and keeps it until standard input ends: {@code DIR WORKERS SPARK_HOME_JARS} (a
     * {@code :}-separated jar list). Prints {@code MASTER spark://...} and {@code SPARK_HOME dir} once it is up.
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: StandaloneCluster DIR WORKERS SPARK_HOME_JARS (a ':'-separated jar list)");
            System.exit(2);
        }
        List<String> jars = List.of(args[2].split(File.pathSeparator));
        try (StandaloneCluster c = start(Path.of(args[0]), Integer.parseInt(args[1]), jars)) {
            Runtime.getRuntime().addShutdownHook(new Thread(c::close));
            System.out.println("MASTER " + c.masterUrl());
            System.out.println("SPARK_HOME " + c.sparkHome);
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold the cluster until the caller closes our standard input
            }
        }
    }

    /** Starts one more Worker (1 core, 3 GB) and waits until it has registered with the Master. */
    void addWorker() throws IOException, InterruptedException {
        addWorker(Map.of());
    }

    /**
     * Starts one more Worker with {@code env} added to its environment, which the executors it launches inherit
     * (e.g. {@code JAVA_TOOL_OPTIONS} for JVM flags on this Worker's executors only), and waits until it has
     * registered with the Master.
     */
    void addWorker(Map<String, String> env) throws IOException, InterruptedException {
        int i = workers.size();
        Path work = Files.createDirectories(dir.resolve("worker-" + i));
        workDirs.add(work);
        workers.add(launch("worker-" + i, env, List.of("org.apache.spark.deploy.worker.Worker", masterUrl, "--host",
                "127.0.0.1", "--cores", "1", "--memory", "3g", "--webui-port", "0", "--work-dir", work.toString())));
        awaitLog(dir.resolve("worker-" + i + ".log"), "Successfully registered with master");
    }

    /** The master URL, {@code spark://127.0.0.1:PORT}. */
    String masterUrl() {
        return masterUrl;
    }

    /**
     * A session builder for a driver in this JVM: one executor per Worker (1 core, {@code executorMemoryGb} GB),
     * executors on this JVM's module flags plus {@code -Dai.djl.offline=true}, and the classpath's folders (which
     * {@code SPARK_HOME/jars} cannot link) on the executors' classpath.
     */
    SparkSession.Builder session(String appName, int executorMemoryGb) {
        return SparkSession.builder().master(masterUrl).appName(appName)
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.executor.cores", "1")
                .config("spark.executor.memory", executorMemoryGb + "g")
                .config("spark.executor.extraJavaOptions", String.join(" ", executorJvmFlags()))
                .config("spark.executor.extraClassPath", String.join(File.pathSeparator, classpath.stream()
                        .filter(e -> Files.isDirectory(Path.of(e))).toList()))
                .config("spark.sql.shuffle.partitions", "2");
    }

    /** The JVM flags of executors: this JVM's module flags, offline DJL, peft4j's INFO log lines. */
    List<String> executorJvmFlags() {
        List<String> flags = new ArrayList<>(jvmFlags);
        flags.add("-Dai.djl.offline=true");
        flags.add("-Dorg.slf4j.simpleLogger.log.io.peft4j=info");
        return flags;
    }

    /** The Worker processes, in start order. */
    List<Process> workers() {
        return List.copyOf(workers);
    }

    /** The Worker (index) that launched each executor id of application {@code appId}. */
    Map<String, Integer> executorWorkers(String appId) throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        for (int i = 0; i < workDirs.size(); i++) {
            for (Path execDir : executorDirs(i, appId)) {
                out.put(execDir.getFileName().toString(), i);
            }
        }
        return out;
    }

    /** The executor folders ({@code <app-id>/<executor-id>}, each with its {@code stderr} log) of Worker {@code i}. */
    List<Path> executorDirs(int i, String appId) throws IOException {
        Path app = workDirs.get(i).resolve(appId);
        if (!Files.isDirectory(app)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(app)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    /** The live executor processes Worker {@code i} launched. */
    List<ProcessHandle> executors(int i) {
        return workers.get(i).descendants().filter(h -> h.info().commandLine().orElse("")
                .contains("CoarseGrainedExecutorBackend")).toList();
    }

    /** Kills Worker {@code i} and everything it launched (SIGKILL, children first), and waits for them to exit. */
    void kill(int i) {
        killTree(workers.get(i).toHandle());
    }

    @Override
    public void close() {
        for (Process w : workers) {
            killTree(w.toHandle());
        }
        killTree(master.toHandle());
    }

    /** This JVM's classpath entries (expanding a manifest-only booter jar as surefire / failsafe use). */
    static List<String> classpath() {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (e.isEmpty()) {
                continue;
            }
            out.add(Path.of(e).toAbsolutePath().toString());     // executors and Workers run in other folders
            if (e.endsWith(".jar")) {
                out.addAll(manifestClassPath(Path.of(e).toAbsolutePath()));
            }
        }
        return out.stream().distinct().toList();
    }

    private static List<String> manifestClassPath(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            Manifest m = f.getManifest();
            String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
            if (cp == null || cp.isBlank()) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (String url : cp.trim().split("\\s+")) {
                out.add(Path.of(jar.getParent().toUri().resolve(url)).toString());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(jar + ": cannot read its manifest", e);
        }
    }

    /** This JVM's module flags ({@code --add-opens}, {@code --add-modules}, ...) that Spark 4 needs on Java 17. */
    static List<String> forwardedJvmFlags() {
        List<String> out = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("--add-exports") || a.startsWith("--add-modules")
                    || a.equals("-XX:+IgnoreUnrecognizedVMOptions") || a.startsWith("-Dio.netty.") || a.startsWith("-Dai.djl.pytorch.")
                    || a.startsWith("-Xss")) {
                out.add(a);
            }
        }
        return out;
    }

    private Process launch(String name, Map<String, String> env, List<String> mainAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(sparkHome.resolve("jars") + File.separator + "*");      // as sbin/start-*.sh: Spark's own jars
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().remove("SPARK_CONF_DIR");
        pb.environment().putAll(env);
        return pb.start();
    }

    private void awaitLog(Path log, String line) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(line)) {
                return;
            }
            if (!master.isAlive() || workers.stream().anyMatch(p -> !p.isAlive())) {
                throw new IllegalStateException("a cluster process exited while waiting for '" + line + "' in "
                        + log + ":\n" + tail(log));
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no '" + line + "' in " + log + " after " + START_TIMEOUT + ":\n" + tail(log));
    }

    static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "(no log)";
        }
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private static void killTree(ProcessHandle root) {
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(root);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                // already gone, or a zombie its parent reaps
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
