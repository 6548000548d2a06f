#!/bin/sh
# The init job of docker-compose and Kubernetes: writes the admin's client properties, then runs
# the generated deploy/kafka/acls.sh (service users and ACLs) against the broker.
set -eu
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
KAFKA_ADMIN_CONFIG=/tmp/admin.properties
cat > "$KAFKA_ADMIN_CONFIG" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPERTIES
export KAFKA_ADMIN_CONFIG
exec sh "$(dirname "$0")/acls.sh"
