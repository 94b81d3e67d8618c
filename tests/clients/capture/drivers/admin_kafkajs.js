// kafkajs 2.2.4 admin calls a real `keel server` answers (TARGET=keel): CreateTopics,
// CreatePartitions, AlterConfigs, DescribeConfigs, ListGroups, DescribeGroups, DeleteGroups,
// DeleteTopics, and last DeleteRecords (deleteTopicRecords; Keel does not serve it yet, the
// proxy advertises it, Keel drops the connection). Its describeCluster reads Metadata.
const { Kafka, logLevel } = require('kafkajs')
const broker = process.argv[2]
const kafka = new Kafka({ clientId: 'capture-kafkajs', brokers: [broker], logLevel: logLevel.NOTHING,
                          retry: { retries: 1 }, requestTimeout: 8000 })
const attempt = async (name, f) => { try { console.log(name + ':', JSON.stringify(await f())) } catch (e) { console.log(name + ':', e.message) } }
const topic = 'admin-by-kafkajs'
const group = 'capgroup-kafkajs' // left by the group consumer of kafkajs.js
const main = async () => {
  const admin = kafka.admin()
  await admin.connect()
  await attempt('createTopics', () => admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }))
  await attempt('createPartitions', () => admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }))
  await attempt('alterConfigs', () => admin.alterConfigs({ resources: [{ type: 2, name: topic,
    configEntries: [{ name: 'retention.ms', value: '3600000' }] }] }))
  await attempt('describeConfigs', () => admin.describeConfigs({ resources: [{ type: 2, name: topic }] }))
  await attempt('listGroups', () => admin.listGroups())
  await attempt('describeGroups', () => admin.describeGroups([group]))
  await attempt('deleteGroups', () => admin.deleteGroups([group]))
  await attempt('describeCluster', () => admin.describeCluster())
  await attempt('deleteTopics', () => admin.deleteTopics({ topics: [topic] }))
  await attempt('deleteTopicRecords', () => admin.deleteTopicRecords({ topic: 'captures', partitions: [{ partition: 0, offset: '1' }] }))
  await admin.disconnect()
}
main().then(() => process.exit(0), (e) => { console.log(e); process.exit(0) })
