#!/bin/sh
# The broker of docker-compose and Kubernetes (apache/kafka image), with authentication and
# authorisation on: clients log in with SASL/SCRAM-SHA-256 (one user per service, created by
# deploy/kafka/acls.sh), the StandardAuthorizer refuses what no ACL allows, and the admin is the
# only super user. The controller listener uses SASL/PLAIN with the admin alone: SCRAM
# credentials live in the metadata log the controller serves, so they cannot guard it.
#
#   KAFKA_ADMIN_PASSWORD  the admin's password (no default)
#   KAFKA_CLUSTER_ID      the cluster id storage is formatted with (kafka-storage.sh random-uuid)
#   KAFKA_ADVERTISED_HOST how clients reach this broker (default kafka)
#   KAFKA_PORT, KAFKA_CONTROLLER_PORT  (default 9092, 9093)
set -eu
BIN=${KAFKA_BIN:-/opt/kafka/bin}
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
: "${KAFKA_CLUSTER_ID:?set KAFKA_CLUSTER_ID}"
CONF=${KAFKA_CONF_DIR:-/tmp}/server.properties
cat > "$CONF" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:${CONTROLLER_PORT}
listeners=SASL_PLAINTEXT://:${PORT},CONTROLLER://localhost:${CONTROLLER_PORT}
advertised.listeners=SASL_PLAINTEXT://${KAFKA_ADVERTISED_HOST:-kafka}:${PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}" user_admin="${KAFKA_ADMIN_PASSWORD}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
log.dirs=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}
offsets.topic.replication.factor=${KAFKA_REPLICATION_FACTOR:-1}
transaction.state.log.replication.factor=${KAFKA_REPLICATION_FACTOR:-1}
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPERTIES
# The admin's client login, for the container's health check.
cat > "${KAFKA_CONF_DIR:-/tmp}/admin.properties" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPERTIES
# The admin's SCRAM credential is written with the storage, before anyone can log in.
"$BIN/kafka-storage.sh" format --ignore-formatted -t "$KAFKA_CLUSTER_ID" -c "$CONF" \
  --add-scram "SCRAM-SHA-256=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]"
exec "$BIN/kafka-server-start.sh" "$CONF"
