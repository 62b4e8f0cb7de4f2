"""How fast a bare librdkafka consumer reads a topic from a broker, doing nothing with the
messages: the ceiling `tellonce bench-stream` is measured against.

Usage: python3 -m pip install confluent-kafka &&
       python3 raw_consume.py BROKERS [TOPIC] [KEY=VALUE ...]
TOPIC defaults to the newest `bench-police-*` topic `bench-stream` left on the broker (give `-`
to keep that default while setting properties). KEY=VALUE are librdkafka properties; like
`tellonce stream`, `fetch.wait.max.ms` defaults to 50 (librdkafka's 500 makes tansu answer
about a fifth as fast). Reads from the earliest offset until no message has come for 5 s, and
prints the rate over the reading time (the final 5 s wait excluded).
"""
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

brokers = sys.argv[1]
topic = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
if topic is None:
    names = AdminClient({"bootstrap.servers": brokers}).list_topics(timeout=10).topics
    topic = sorted(t for t in names if t.startswith("bench-police"))[-1]
config = {
    "bootstrap.servers": brokers,
    "group.id": f"raw-consume-{time.time_ns()}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "fetch.wait.max.ms": 50,
}
for pair in sys.argv[3:]:
    key, value = pair.split("=", 1)
    config[key] = value
consumer = Consumer(config)
consumer.subscribe([topic])
count, started, last = 0, None, None
while True:
    messages = consumer.consume(10000, 5.0)
    if not messages:
        if count:
            break
        continue
    started = started or time.monotonic()
    count += len(messages)
    last = time.monotonic()
consumer.close()
seconds = max(last - started, 1e-9)
print(f"{topic}: {count} messages in {seconds:.1f} s = {count / seconds:.0f} messages/s")
