"""Produces partner messages to a Kafka topic with kafka-python, a client independent of the
librdkafka that tellonce uses.

Usage: kafka_produce.py BROKERS TOPIC PARTITIONS FILE.jsonl [EXTRA_POISON [PER_SECOND [KEY_FIELD]]]
Creates the topic with PARTITIONS partitions if it does not exist, sends each line of FILE as
one message (keyed by its line number, so messages spread over the partitions), then
EXTRA_POISON messages that are not JSON. PER_SECOND paces the sending, so that traffic is still
flowing while consumers join and leave. KEY_FIELD keys each message by that field of its JSON
instead (as a partner keying by record reference does, so that every version of a record goes
to one partition, in order). Prints {"produced": N} as JSON.
"""
import json
import sys
import time

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

brokers, topic, partitions, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
poison = int(sys.argv[5]) if len(sys.argv) > 5 else 0
per_second = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
key_field = sys.argv[7] if len(sys.argv) > 7 else None

admin = KafkaAdminClient(bootstrap_servers=brokers, client_id="tellonce-test-admin")
try:
    admin.create_topics([NewTopic(name=topic, num_partitions=partitions, replication_factor=1)])
except TopicAlreadyExistsError:
    pass
admin.close()

producer = KafkaProducer(bootstrap_servers=brokers, acks="all", linger_ms=5)
produced = 0
started = time.monotonic()


def pace():
    if per_second > 0:
        due = started + produced / per_second
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)

with open(path, "rb") as f:
    for number, line in enumerate(f):
        line = line.rstrip(b"\n")
        if not line.strip():
            continue
        pace()
        key = str(json.loads(line)[key_field]) if key_field else str(number)
        producer.send(topic, key=key.encode(), value=line)
        produced += 1
for i in range(poison):
    producer.send(topic, key=f"poison-{i}".encode(), value=b"this is not JSON")
    produced += 1
producer.flush(timeout=60)
producer.close()
print(json.dumps({"produced": produced}))
