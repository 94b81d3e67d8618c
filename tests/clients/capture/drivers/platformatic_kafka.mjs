// @platformatic/kafka 2.12.1: producer, group consumer, admin.
// Node 20 (Debian's nodejs here) lacks Promise.withResolvers (Node 22), which the client
// uses; this is the standard polyfill, installed before the client loads.
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}
const { Admin, Consumer, Producer, stringDeserializers, stringSerializers } = await import('@platformatic/kafka')
// The mock cluster fails some calls; errors raised outside a call are noted, not fatal.
process.on('uncaughtException', (e) => console.log('uncaught:', e.message))
process.on('unhandledRejection', (e) => console.log('unhandled:', e && e.message))
const broker = process.argv[2]
const common = { clientId: 'capture-platformatic', bootstrapBrokers: [broker], timeout: 4000, retries: 1 }
const attempt = async (name, f) => { try { await f() } catch (e) { console.log(name + ':', e.message) } }
const withTimeout = (p, ms) => Promise.race([p, new Promise((resolve) => setTimeout(resolve, ms))])

const producer = new Producer({ ...common, serializers: stringSerializers, idempotent: true })
await attempt('produce', () => withTimeout(producer.send({
  messages: [{ topic: 'captures', key: 'k', value: 'v', headers: { h: 'x' } }, { topic: 'captures', value: 'w' }]
}), 8000))
await attempt('producer.close', () => withTimeout(producer.close(true), 3000))

const consumer = new Consumer({ ...common, groupId: 'capgroup-platformatic', deserializers: stringDeserializers })
await attempt('consume', async () => {
  const stream = await withTimeout(consumer.consume({ autocommit: true, topics: ['captures'], mode: 'earliest',
                                                      sessionTimeout: 10000, heartbeatInterval: 500 }), 8000)
  if (stream) stream.on('error', (e) => console.log('stream:', e.message))
  if (stream) await new Promise((resolve) => { let got = 0; setTimeout(resolve, 5000); stream.on('data', () => { if (++got >= 3) resolve() }) })
})
await attempt('consumer.close', () => withTimeout(consumer.close(true), 3000))

const admin = new Admin(common)
await attempt('metadata', () => withTimeout(admin.metadata({ topics: ['captures'] }), 5000))
await attempt('createTopics', () => withTimeout(admin.createTopics({ topics: ['created-by-platformatic'], partitions: 2, replicas: 1 }), 5000))
await attempt('deleteTopics', () => withTimeout(admin.deleteTopics({ topics: ['created-by-platformatic'] }), 5000))
await attempt('admin.close', () => withTimeout(admin.close(), 3000))
process.exit(0)
