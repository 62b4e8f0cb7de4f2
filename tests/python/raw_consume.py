"""How fast a bare librdkafka consumer reads a topic from a broker, doing nothing with the
messages: the ceiling `tellonce bench-stream` is measured against.

Usage: python3 -m pip install confluent-kafka && python3 raw_consume.py BROKERS [TOPIC]
TOPIC defaults to the newest `bench-police-*` topic `bench-stream` left on the broker. Reads from
the earliest offset until no message has come for 5 s, and prints the rate over the reading time
(the final 5 s wait excluded).
"""
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

brokers = sys.argv[1]
if len(sys.argv) > 2:
    topic = sys.argv[2]
else:
    names = AdminClient({"bootstrap.servers": brokers}).list_topics(timeout=10).topics
    topic = sorted(t for t in names if t.startswith("bench-police"))[-1]
consumer = Consumer(
    {
        "bootstrap.servers": brokers,
        "group.id": f"raw-consume-{time.time_ns()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
)
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
