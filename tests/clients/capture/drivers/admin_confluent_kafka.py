"""python3-confluent-kafka 1.7.0 admin calls a real `keel server` answers (TARGET=keel):
CreateTopics, CreatePartitions, AlterConfigs, DescribeConfigs, ListGroups and
DescribeGroups (list_groups), DeleteTopics. 1.7.0 has no incremental_alter_configs,
delete_records, describe_consumer_groups or delete_consumer_groups."""
import sys

from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

b = sys.argv[1]
topic = "admin-by-confluent"
a = AdminClient({"bootstrap.servers": b, "client.id": "capture-confluent"})


def wait(name, futures):
    for fut in futures.values():
        try:
            fut.result(10)
        except Exception as e:  # noted, not fatal: the request is what we keep
            print(name + ":", e)


wait("create_topics", a.create_topics([NewTopic(topic, 1, 1)], request_timeout=5))
wait("create_partitions", a.create_partitions([NewPartitions(topic, 3)], request_timeout=5))
wait("alter_configs", a.alter_configs([ConfigResource("topic", topic, set_config={"retention.ms": "3600000"})],
                                      request_timeout=5))
wait("describe_configs", a.describe_configs([ConfigResource("topic", topic)], request_timeout=5))
try:
    print("list_groups:", [g.id for g in a.list_groups(timeout=10)])
except Exception as e:
    print("list_groups:", e)
wait("delete_topics", a.delete_topics([topic], request_timeout=5))
