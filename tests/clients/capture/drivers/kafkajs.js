// kafkajs 2.2.4: idempotent producer, group consumer, admin.
const { Kafka, logLevel } = require('kafkajs')
const broker = process.argv[2]
const kafka = new Kafka({ clientId: 'capture-kafkajs', brokers: [broker], logLevel: logLevel.NOTHING,
                          retry: { retries: 1 }, requestTimeout: 4000 })
const attempt = async (name, f) => { try { await f() } catch (e) { console.log(name + ':', e.message) } }
const main = async () => {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await attempt('produce', async () => {
    await producer.connect()
    await producer.send({ topic: 'captures', messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }, { value: 'w' }] })
    await producer.disconnect()
  })
  const consumer = kafka.consumer({ groupId: 'capgroup-kafkajs', sessionTimeout: 10000, heartbeatInterval: 500 })
  await attempt('consume', async () => {
    await consumer.connect()
    await consumer.subscribe({ topics: ['captures'], fromBeginning: true })
    let got = 0
    await new Promise((resolve) => {
      setTimeout(resolve, 8000)
      consumer.run({ eachMessage: async () => { if (++got >= 3) resolve() } })
    })
    await consumer.disconnect()
  })
  const admin = kafka.admin()
  await attempt('admin', async () => {
    await admin.connect()
    await attempt('fetchTopicOffsets', () => admin.fetchTopicOffsets('captures'))
    await attempt('createTopics', () => admin.createTopics({ topics: [{ topic: 'created-by-kafkajs', numPartitions: 2 }] }))
    await attempt('describeConfigs', () => admin.describeConfigs({ resources: [{ type: 2, name: 'captures' }] }))
    await attempt('deleteTopics', () => admin.deleteTopics({ topics: ['created-by-kafkajs'] }))
    await admin.disconnect()
  })
}
main().then(() => process.exit(0), (e) => { console.log(e); process.exit(0) })
