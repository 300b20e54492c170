#!/usr/bin/env bash
# Apache Cassandra 5.0.x, one node, from Maven Central jars (cassandra-all)
# run on JDK 17, CQL on 127.0.0.1:9042. Ready when
# SELECT release_version FROM system.local answers.
SERVICE=cassandra; source "$(dirname "$0")/lib.sh"
VERSION=${SYSBLOCKS_CASSANDRA_VERSION:-5.0.8}
BASE="$CACHE/cassandra-$VERSION"; DIR="$RUN/cassandra"
HEAP=${SYSBLOCKS_CASSANDRA_HEAP:-1g}
if pid_alive "$DIR/cassandra.pid" && probe cassandra 127.0.0.1 >/dev/null 2>&1; then
  log "already running on 127.0.0.1:9042"; exit 0
fi
need_java17
mkdir -p "$BASE" "$DIR"/{conf,data,commitlog,saved_caches,hints,cdc_raw,logs}
cat >"$BASE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sysblocks</groupId><artifactId>cassandra-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.cassandra</groupId><artifactId>cassandra-all</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
mvn_fetch "cassandra $VERSION" "$BASE"
probe cassandra 127.0.0.1:1 >/dev/null 2>&1 || true   # build the probe before the JVM takes the CPU
cat >"$DIR/conf/cassandra.yaml" <<YAML
cluster_name: 'sysblocks-test'
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
num_tokens: 1
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: 7000
ssl_storage_port: 7001
native_transport_port: 9042
start_native_transport: true
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1"
data_file_directories: [ $DIR/data ]
commitlog_directory: $DIR/commitlog
saved_caches_directory: $DIR/saved_caches
hints_directory: $DIR/hints
cdc_raw_directory: $DIR/cdc_raw
cdc_enabled: false
commitlog_sync: periodic
commitlog_sync_period: 10s
commitlog_segment_size: 5MiB
auto_snapshot: false
incremental_backups: false
memtable_allocation_type: heap_buffers
disk_access_mode: standard
concurrent_compactors: 1
concurrent_reads: 4
concurrent_writes: 4
storage_compatibility_mode: NONE
YAML
cat >"$DIR/conf/logback.xml" <<'XML'
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>${cassandra.logdir}/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
XML
# The JPMS flags of Cassandra 5.0's conf/jvm17-server.options, plus the two
# that cassandra-unit adds for 5.0.8; the JVM stops during startup without them.
JPMS=(-Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-exports java.management/com.sun.jmx.remote.security=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.nio=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11)
JAMM=$(ls "$BASE"/lib/jamm-*.jar | head -n1)
t0=$(now_ms)
setsid "$JAVA17" -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -ea -da:net.openhft... -Xss256k \
  -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$DIR/logs" -XX:+ExitOnOutOfMemoryError -XX:+PerfDisableSharedMem \
  -Djava.net.preferIPv4Stack=true -javaagent:"$JAMM" "${JPMS[@]}" \
  -Dcassandra.config="file://$DIR/conf/cassandra.yaml" -Dlogback.configurationFile="$DIR/conf/logback.xml" \
  -Dcassandra.logdir="$DIR/logs" -Dcassandra.storagedir="$DIR" -Dcassandra-foreground=yes \
  -Dcassandra.jmx.local.port=7199 -Dcassandra.skip_wait_for_gossip_to_settle=0 \
  -cp "$DIR/conf:$BASE/lib/*" org.apache.cassandra.service.CassandraDaemon </dev/null >"$DIR/logs/stdout.log" 2>&1 &
pid=$!; echo $pid >"$DIR/cassandra.pid"
wait_for 180 "$DIR/logs/system.log" "$pid" probe cassandra 127.0.0.1 || die "cassandra did not start"
log "ready on 127.0.0.1:9042 in $(( $(now_ms) - t0 )) ms, rss $(rss_mb "$pid") MiB"
