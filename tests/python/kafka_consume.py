"""Reads a whole Kafka topic with kafka-python (a client independent of tellonce's librdkafka),
for tests that check what tellonce sent to a topic.

Usage: kafka_consume.py BROKERS TOPIC [IDLE_SECONDS]
Reads every partition from the earliest offset until no message has come for IDLE_SECONDS
(default 5), then prints one JSON object per message: partition, offset, key and value (UTF-8,
undecodable bytes replaced) and headers (name -> UTF-8 value).
"""
import json
import sys

from kafka import KafkaConsumer

brokers, topic = sys.argv[1], sys.argv[2]
idle = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0

consumer = KafkaConsumer(
    topic,
    bootstrap_servers=brokers,
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    group_id=None,
    consumer_timeout_ms=int(idle * 1000),
)


def text(b):
    return None if b is None else b.decode("utf-8", errors="replace")


for m in consumer:
    print(
        json.dumps(
            {
                "partition": m.partition,
                "offset": m.offset,
                "key": text(m.key),
                "value": text(m.value),
                "headers": {k: text(v) for k, v in (m.headers or [])},
            }
        )
    )
consumer.close()
