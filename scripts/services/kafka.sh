#!/usr/bin/env bash
# Apache Kafka 4.x, one KRaft node (broker + controller), from Maven Central
# jars run on JDK 17, PLAINTEXT on 127.0.0.1:9092 (controller on 9093).
SERVICE=kafka; source "$(dirname "$0")/lib.sh"
VERSION=${SYSBLOCKS_KAFKA_VERSION:-4.1.1}
PORT=9092
BASE="$CACHE/kafka-$VERSION"; DIR="$RUN/kafka"
if pid_alive "$DIR/kafka.pid" && probe kafka "127.0.0.1:$PORT" >/dev/null 2>&1; then
  log "already running on 127.0.0.1:$PORT"; exit 0
fi
need_java17
mkdir -p "$BASE" "$DIR/data" "$DIR/logs"
cat >"$BASE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sysblocks</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-bom</artifactId>
      <version>2.25.3</version><type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId></dependency>
  </dependencies>
</project>
POM
mvn_fetch "kafka $VERSION" "$BASE"
# build the probe now, while nothing else needs the CPU
probe kafka 127.0.0.1:1 >/dev/null 2>&1 || true
cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
num.network.threads=2
num.io.threads=2
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.segment.bytes=16777216
delete.topic.enable=true
PROPS
cat >"$DIR/log4j2.properties" <<'L4J'
status = warn
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = org.apache.kafka
logger.kafka.level = warn
L4J
JOPTS=(-Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true -Dkafka.logs.dir="$DIR/logs"
       -Dlog4j2.configurationFile="file:$DIR/log4j2.properties")
CP="$BASE/lib/*"
t0=$(now_ms)
if [ ! -f "$DIR/data/meta.properties" ]; then
  "$JAVA17" "${JOPTS[@]}" -cp "$CP" kafka.tools.StorageTool format \
    -t "$("$JAVA17" -cp "$CP" kafka.tools.StorageTool random-uuid)" \
    -c "$DIR/server.properties" --ignore-formatted >"$DIR/logs/format.log" 2>&1 \
    || { tail -20 "$DIR/logs/format.log" >&2; die "kafka storage format failed"; }
fi
setsid "$JAVA17" "${JOPTS[@]}" -cp "$CP" kafka.Kafka "$DIR/server.properties" </dev/null >"$DIR/logs/stdout.log" 2>&1 &
pid=$!; echo $pid >"$DIR/kafka.pid"
wait_for 120 "$DIR/logs/server.log" "$pid" probe kafka "127.0.0.1:$PORT" || die "kafka did not start"
log "ready on 127.0.0.1:$PORT in $(( $(now_ms) - t0 )) ms (format + start), rss $(rss_mb "$pid") MiB"
