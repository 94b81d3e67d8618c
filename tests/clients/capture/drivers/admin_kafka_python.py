"""python3-kafka (kafka-python 2.0.2) admin calls a real `keel server` answers
(TARGET=keel): CreateTopics, CreatePartitions, AlterConfigs, DescribeConfigs, ListGroups,
DescribeGroups, DeleteGroups, DeleteTopics (2.0.2 has no incremental alter, no
delete_records; its describe_cluster reads Metadata)."""
import sys

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

b = sys.argv[1]
topic = "admin-by-kafka-python"
group = "capgroup-kafka-python"  # left by the group consumer of drive_kafka_python.py
a = KafkaAdminClient(bootstrap_servers=b, client_id="capture-kafka-python", request_timeout_ms=8000)
calls = [
    ("create_topics", lambda: a.create_topics([NewTopic(topic, 1, 1)])),
    ("create_partitions", lambda: a.create_partitions({topic: NewPartitions(3)})),
    ("alter_configs", lambda: a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                              configs={"retention.ms": "3600000"})])),
    ("describe_configs", lambda: a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])),
    ("list_consumer_groups", lambda: a.list_consumer_groups()),
    ("describe_consumer_groups", lambda: a.describe_consumer_groups([group])),
    ("delete_consumer_groups", lambda: a.delete_consumer_groups([group])),
    ("describe_cluster", lambda: a.describe_cluster()),
    ("delete_topics", lambda: a.delete_topics([topic])),
]
for name, call in calls:
    try:
        print(name + ":", call())
    except Exception as e:  # noted, not fatal: the request is what we keep
        print(name + ":", e)
a.close()
