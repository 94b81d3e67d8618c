// @platformatic/kafka 2.12.1 admin calls a real `keel server` answers (TARGET=keel):
// CreateTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs, DescribeConfigs,
// ListGroups, DescribeGroups, DeleteGroups, DeleteTopics, and last DeleteRecords (Keel does
// not serve it yet: the proxy advertises it, Keel drops the connection).
Promise.withResolvers ??= function () { // Node 20 lacks it (see platformatic_kafka.mjs)
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}
const { Admin } = await import('@platformatic/kafka')
process.on('uncaughtException', (e) => console.log('uncaught:', e.message))
process.on('unhandledRejection', (e) => console.log('unhandled:', e && e.message))
const broker = process.argv[2]
const admin = new Admin({ clientId: 'capture-platformatic', bootstrapBrokers: [broker], timeout: 8000, retries: 1 })
const withTimeout = (p, ms) => Promise.race([p, new Promise((resolve) => setTimeout(resolve, ms))])
const show = (v) => { try { return JSON.stringify(v, (k, x) => typeof x === 'bigint' ? String(x) : x instanceof Map ? [...x.keys()] : x) } catch { return String(v) } }
const attempt = async (name, f) => { try { console.log(name + ':', show(await withTimeout(f(), 10000))) } catch (e) { console.log(name + ':', e.message) } }
const topic = 'admin-by-platformatic'
const group = 'capgroup-platformatic' // left by the group consumer of platformatic_kafka.mjs
await attempt('createTopics', () => admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }))
await attempt('createPartitions', () => admin.createPartitions({ topics: [{ name: topic, count: 3 }] }))
await attempt('alterConfigs', () => admin.alterConfigs({ resources: [{ resourceType: 2, resourceName: topic,
  configs: [{ name: 'retention.ms', value: '3600000' }] }] }))
await attempt('incrementalAlterConfigs', () => admin.incrementalAlterConfigs({ resources: [{ resourceType: 2,
  resourceName: topic, configs: [{ name: 'retention.ms', configOperation: 0, value: '7200000' }] }] }))
await attempt('describeConfigs', () => admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic }] }))
await attempt('listGroups', () => admin.listGroups({}))
await attempt('describeGroups', () => admin.describeGroups({ groups: [group] }))
await attempt('deleteGroups', () => admin.deleteGroups({ groups: [group] }))
await attempt('deleteTopics', () => admin.deleteTopics({ topics: [topic] }))
await attempt('deleteRecords', () => admin.deleteRecords({ topics: [{ name: 'captures', partitions: [{ partition: 0, offset: 1n }] }] }))
await attempt('admin.close', () => admin.close())
process.exit(0)
