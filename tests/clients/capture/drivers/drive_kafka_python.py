"""python3-kafka (kafka-python): producer, group consumer with commits, admin."""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

b = sys.argv[1]
p = KafkaProducer(bootstrap_servers=b, client_id="capture-kafka-python")
for i in range(3):
    p.send("captures", key=b"k%d" % i, value=b"value %d" % i, headers=[("h", b"v")])
p.flush(10)
p.close(5)
c = KafkaConsumer("captures", bootstrap_servers=b, group_id="capgroup-kafka-python",
                  auto_offset_reset="earliest", enable_auto_commit=False, client_id="capture-kafka-python",
                  consumer_timeout_ms=8000)
got = 0
for m in c:
    got += 1
    c.commit()
    if got >= 3:
        break
c.close()
a = KafkaAdminClient(bootstrap_servers=b, client_id="capture-kafka-python", request_timeout_ms=4000)
for name, call in [("create_topics", lambda: a.create_topics([NewTopic("created-by-kafka-python", 2, 1)])),
                   ("describe_configs", lambda: a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "captures")])),
                   ("delete_topics", lambda: a.delete_topics(["created-by-kafka-python"]))]:
    try:
        call()
    except Exception as e:  # the mock does not implement it; the request is what we keep
        print(name + ":", e)
a.close()
