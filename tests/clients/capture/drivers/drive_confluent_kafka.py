"""python3-confluent-kafka (librdkafka): idempotent producer, group consumer with commits,
admin (CreateTopics, DescribeConfigs, DeleteTopics)."""
import sys

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

b = sys.argv[1]
p = Producer({"bootstrap.servers": b, "enable.idempotence": True, "client.id": "capture-confluent"})
for i in range(3):
    p.produce("captures", key=b"k%d" % i, value=b"value %d" % i, headers=[("h", b"v")])
p.flush(10)
c = Consumer({"bootstrap.servers": b, "group.id": "capgroup-confluent", "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "client.id": "capture-confluent"})
c.subscribe(["captures"])
got = 0
for _ in range(40):
    m = c.poll(0.5)
    if m is not None and not m.error():
        got += 1
        c.commit(message=m, asynchronous=False)
    if got >= 3:
        break
c.committed([TopicPartition("captures", 0)], timeout=5)
c.close()
a = AdminClient({"bootstrap.servers": b, "client.id": "capture-confluent"})
for fut in a.create_topics([NewTopic("created-by-confluent", 2, 1)], request_timeout=3).values():
    try:
        fut.result(5)
    except Exception as e:  # the mock does not implement it; the request is what we keep
        print("create_topics:", e)
for fut in a.describe_configs([ConfigResource("topic", "captures")], request_timeout=3).values():
    try:
        fut.result(5)
    except Exception as e:
        print("describe_configs:", e)
for fut in a.delete_topics(["created-by-confluent"], request_timeout=3).values():
    try:
        fut.result(5)
    except Exception as e:
        print("delete_topics:", e)
