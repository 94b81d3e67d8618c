#!/usr/bin/env node
// kafkajs (npm, pinned in tests/clients/kafkajs/package.json) unmodified against `keel server`
// (issue 10).
//
// Starts one combined controller+broker (offsets.topic.replication.factor=1, as Kafka needs
// on one node) on free loopback ports in a temp dir, then 3 combined nodes (RF 3, min ISR 2),
// and checks against each, exactly: an idempotent producer (acks=-1) sends 200 keyed records
// with headers and timestamps to a 3-partition topic that Metadata auto-creates; each lands on
// the murmur2 partition of its key (kafkajs 2's default, Java-compatible partitioner) at the
// next offset; admin.fetchTopicOffsets and fetchTopicOffsetsByTimestamp (ListOffsets) answer
// exactly. Two consumers of one group, run() with eachMessage, split the partitions (disjoint,
// covering all) and read every record (keys, values, headers, partitions, offsets,
// timestamps); their commits (auto-commit after each batch) equal the end offsets
// (admin.fetchOffsets). 50 more records; a third member resumes at the commits and reads
// exactly the new ones; admin.listGroups / describeGroups show it (Stable, one member with
// every partition); admin.setOffsets on the empty group, and a new member starts exactly
// there; admin.deleteGroups removes the group. On the single node, gzip batches
// are read back exactly too. admin.createTopics (true for a new topic, false for an existing
// one, INVALID_REPLICATION_FACTOR, validateOnly) and admin.deleteTopics (gone from
// listTopics; UNKNOWN_TOPIC_OR_PARTITION for a second delete); the topic created again under
// the same name starts empty. admin.createPartitions, describeConfigs, alterConfigs and
// deleteTopicRecords.
//
// Usage: kafkajs_test.js KEEL_BINARY. Exit 77 (skipped) if tests/clients/kafkajs/node_modules
// has no kafkajs (cmake/install_deps.sh runs npm install there).
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const { SINGLE_EXTRA, CLUSTER_EXTRA, startNodes: startKeelNodes, stopNodes: stopKeelNodes, killNodes } =
  require('./keel_nodes.cjs')

const SKIP = 77
const TOPIC = 'js-orders'
const GROUP = 'js-g1'
const PARTITIONS = 3
const RECORDS = 200
const MORE = 50
const WAIT_MS = 120000 // upper bound for anything to happen on a busy machine; never asserted

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1' // the default is the Java-compatible one, checked below
let kafkajs
try {
  kafkajs = require(path.join(__dirname, 'kafkajs', 'node_modules', 'kafkajs'))
} catch (e) {
  console.log('SKIP: kafkajs is not installed in tests/clients/kafkajs/node_modules (run cmake/install_deps.sh)')
  process.exit(SKIP)
}
const { Kafka, logLevel, AssignerProtocol, ConfigResourceTypes } = kafkajs

// kafkajs's log (debug level) is kept in memory: its tail is printed if the test fails, and
// the API versions it negotiated ("Request Metadata(key: 3, version: 6)") are listed at the end.
const clientLog = []
const versionsUsed = new Set()
const logCreator = () => ({ namespace, level, log }) => {
  const m = /^Request (\w+)\(key: \d+, version: (\d+)\)/.exec(log.message)
  if (m) versionsUsed.add(`${m[1]} v${m[2]}`)
  if (level > logLevel.INFO) return
  clientLog.push(`${log.timestamp} ${namespace} ${log.message}${log.error ? ': ' + log.error : ''}`)
  if (clientLog.length > 400) clientLog.shift()
}

function fail(msg) {
  console.error(clientLog.slice(-150).join('\n'))
  console.error('FAIL: ' + msg)
  throw new Error(msg)
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function waitFor(what, check) {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const last = await check()
    if (last === true) return
    if (Date.now() > deadline) fail(`${what}: ${JSON.stringify(last)}`)
    await sleep(200)
  }
}

// Kafka's murmur2 (the Java client's partitioner hash), as published.
function murmur2(data) {
  const m = 0x5bd1e995
  let h = (0x9747b28c ^ data.length) >>> 0
  const tail = data.length - (data.length % 4)
  for (let i = 0; i < tail; i += 4) {
    let k = data.readUInt32LE(i)
    k = Math.imul(k, m) >>> 0
    k = (k ^ (k >>> 24)) >>> 0
    k = Math.imul(k, m) >>> 0
    h = Math.imul(h, m) >>> 0
    h = (h ^ k) >>> 0
  }
  const rest = data.length % 4
  if (rest === 3) h = (h ^ (data[tail + 2] << 16)) >>> 0
  if (rest >= 2) h = (h ^ (data[tail + 1] << 8)) >>> 0
  if (rest >= 1) h = Math.imul((h ^ data[tail]) >>> 0, m) >>> 0
  h = (h ^ (h >>> 13)) >>> 0
  h = Math.imul(h, m) >>> 0
  return (h ^ (h >>> 15)) >>> 0
}

const partitionOf = key => (murmur2(Buffer.from(key)) & 0x7fffffff) % PARTITIONS

// ------------------------------------------------------------------------- the server

// n combined nodes (keel_nodes.cjs) with this test's topic defaults.
function startNodes(keel, workdir, n, extra) {
  return startKeelNodes(keel, workdir, n, `num.partitions=${PARTITIONS}
auto.create.topics.enable=true
cluster.id=keel-kafkajs-test
${extra}`, 'kafkajs_test.js')
}

const stopNodes = nodes => stopKeelNodes(nodes, WAIT_MS)

function client(bootstrap, clientId) {
  return new Kafka({
    clientId,
    brokers: bootstrap,
    logLevel: logLevel.DEBUG,
    logCreator,
    connectionTimeout: 10000,
    requestTimeout: 60000,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
  })
}

// Another process (a test running in parallel) took a port between freePort() and the
// server's listen; part() starts the nodes again on new ports.
class PortTaken extends Error {}

async function awaitServer(kafka, nodes) {
  await waitFor(`keel server answers Metadata with ${nodes.length} brokers`, async () => {
    for (const node of nodes) {
      if (node.proc.exitCode === null) continue
      if (fs.readFileSync(node.logPath, 'utf8').includes('Address already in use')) throw new PortTaken()
      fail(`keel server exited with ${node.proc.exitCode}; see ${node.logPath}`)
    }
    const admin = kafka.admin({ retry: { retries: 0 } })
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      return cluster.brokers.length === nodes.length || cluster
    } catch (e) {
      return e.message
    } finally {
      await admin.disconnect().catch(() => {})
    }
  })
}

// ------------------------------------------------------------------------- producer

// Sends records first..first+count-1 in one send() and returns them keyed 'partition:offset'.
async function produce(kafka, first, count, startOffsets, topic = TOPIC, compression = undefined) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const messages = []
  const now = Date.now()
  for (let i = first; i < first + count; i++) {
    messages.push({
      key: `k${i}`,
      value: `v${i}`,
      headers: { n: String(i), src: 'kafkajs' },
      timestamp: String(now - 1000 + i),
    })
  }
  const meta = await producer.send({ topic, acks: -1, messages, compression })
  await producer.disconnect()
  const base = {}
  for (const m of meta) {
    if (m.errorCode !== 0) fail(`send: ${JSON.stringify(m)}`)
    base[m.partition] = Number(m.baseOffset)
  }
  const sent = new Map()
  const next = {}
  for (const msg of messages) {
    const p = partitionOf(msg.key)
    if (!(p in base)) fail(`no batch acknowledged for partition ${p} (key ${msg.key}): ${JSON.stringify(meta)}`)
    const offset = base[p] + (next[p] = (next[p] || 0) + 1) - 1
    sent.set(`${p}:${offset}`, describe(msg.key, msg.value, msg.headers, msg.timestamp))
  }
  for (const p of Object.keys(base)) {
    if (base[p] !== (startOffsets[p] || 0)) fail(`partition ${p}: base offset ${base[p]}, want ${startOffsets[p] || 0}`)
  }
  console.log(`ok: ${topic}: idempotent producer (acks=-1${compression ? ', gzip' : ''}) sent ${count} records; ` +
              `base offsets ${JSON.stringify(base)}`)
  return sent
}

function describe(key, value, headers, timestamp) {
  const h = Object.keys(headers).sort().map(k => `${k}=${headers[k]}`).join(',')
  return `${key} ${value} ${h} ${timestamp}`
}

function received(message) {
  const headers = {}
  for (const [k, v] of Object.entries(message.headers || {})) headers[k] = v.toString()
  return describe(message.key.toString(), message.value.toString(), headers, message.timestamp)
}

function endsOf(sent) {
  const ends = {}
  for (const k of sent.keys()) {
    const [p, o] = k.split(':').map(Number)
    ends[p] = Math.max(ends[p] || 0, o + 1)
  }
  return ends
}

// The partitions' end offsets (ListOffsets) must be what we sent.
async function checkEnds(admin, want) {
  const got = {}
  for (const o of await admin.fetchTopicOffsets(TOPIC)) got[o.partition] = Number(o.high)
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`fetchTopicOffsets ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
}

// fetchTopicOffsetsByTimestamp (ListOffsets by timestamp): the first offset of each partition
// whose timestamp is at least the one asked; past the last record, the end offset.
async function checkTimes(admin, sent) {
  const records = [...sent].map(([k, d]) => [...k.split(':').map(Number), Number(d.split(' ').pop())])
  const ts = records.map(r => r[2]).sort((a, b) => a - b)[Math.floor(records.length / 2)]
  const want = {}
  for (const [p, o, t] of records) if (t >= ts && (want[p] === undefined || o < want[p])) want[p] = o
  const got = {}
  for (const r of await admin.fetchTopicOffsetsByTimestamp(TOPIC, ts)) got[r.partition] = Number(r.offset)
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`fetchTopicOffsetsByTimestamp(${ts}): ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
  const late = {}
  for (const r of await admin.fetchTopicOffsetsByTimestamp(TOPIC, ts + 3600000)) late[r.partition] = Number(r.offset)
  if (JSON.stringify(late) !== JSON.stringify(endsOf(sent))) fail(`fetchTopicOffsetsByTimestamp after the end: ${JSON.stringify(late)}`)
  console.log(`ok: fetchTopicOffsets ${JSON.stringify(endsOf(sent))}, fetchTopicOffsetsByTimestamp ${JSON.stringify(got)}`)
}

// ------------------------------------------------------------------------- consumer group

// A group member that records what it reads (by 'partition:offset') and its latest assignment.
async function member(kafka, got, topic = TOPIC, groupId = GROUP) {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    rebalanceTimeout: 60000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
  })
  const m = { consumer, assignment: [] }
  consumer.on(consumer.events.GROUP_JOIN, e => {
    m.assignment = (e.payload.memberAssignment[topic] || []).slice().sort()
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const key = `${partition}:${message.offset}`
      const record = received(message)
      if (got.has(key) && got.get(key) !== record) fail(`${key} read twice, differently: ${got.get(key)} / ${record}`)
      got.set(key, record)
    },
  })
  return m
}

function sameMap(got, want) {
  if (got.size !== want.size) return false
  for (const [k, v] of want) if (got.get(k) !== v) return false
  return true
}

function firstDifference(got, want) {
  for (const [k, v] of want) if (got.get(k) !== v) return `${k}: read ${got.get(k)}, sent ${v}`
  for (const [k, v] of got) if (!want.has(k)) return `${k}: read ${v}, never sent`
  return 'none'
}

async function committedOffsets(admin) {
  const out = {}
  for (const t of await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })) {
    for (const p of t.partitions) out[p.partition] = Number(p.offset)
  }
  return out
}

async function twoMembers(kafka, admin, sent) {
  const got = new Map()
  const members = [await member(kafka, got), await member(kafka, got)]
  let split
  await waitFor('two members split the partitions and read every record', async () => {
    split = members.map(m => m.assignment)
    const [a, b] = split
    const disjoint = a.length > 0 && b.length > 0 && a.every(p => !b.includes(p))
    return (disjoint && a.length + b.length === PARTITIONS && sameMap(got, sent)) || [split, got.size]
  })
  for (const m of members) await m.consumer.disconnect()
  if (!sameMap(got, sent)) fail(`group read differs: ${firstDifference(got, sent)}`)
  const ends = endsOf(sent)
  const committed = await committedOffsets(admin)
  if (JSON.stringify(committed) !== JSON.stringify(ends)) {
    fail(`fetchOffsets ${JSON.stringify(committed)} after both members left, want the ends ${JSON.stringify(ends)}`)
  }
  console.log(`ok: two members of ${GROUP} (run/eachMessage) split the partitions ${JSON.stringify(split)}, ` +
              `read all ${sent.size} records exactly and committed ${JSON.stringify(committed)}`)
}

async function resume(kafka, admin, more, ends) {
  const got = new Map()
  const third = await member(kafka, got)
  await waitFor('a third member reads the new records', async () => sameMap(got, more) || got.size)
  await sleep(1000) // nothing else (below the commits) arrives later
  if (!sameMap(got, more)) fail(`the third member read ${firstDifference(got, more)}`)
  console.log(`ok: a third member resumed at the commits ${JSON.stringify(ends)} and read exactly the ` +
              `${more.size} new records`)
  return third
}

async function adminGroups(kafka, admin, third, all) {
  const ends = endsOf(all)
  await waitFor('listGroups and describeGroups show one Stable member', async () => {
    const listed = (await admin.listGroups()).groups
    const { groups } = await admin.describeGroups([GROUP])
    const g = groups[0]
    const ok = listed.some(x => x.groupId === GROUP && x.protocolType === 'consumer') &&
      g.state === 'Stable' && g.members.length === 1 && g.protocolType === 'consumer'
    return ok || { listed, groups }
  })
  const { groups } = await admin.describeGroups([GROUP])
  const assignment = AssignerProtocol.MemberAssignment.decode(groups[0].members[0].memberAssignment)
  const parts = (assignment.assignment[TOPIC] || []).slice().sort()
  if (JSON.stringify(parts) !== JSON.stringify([...Array(PARTITIONS).keys()])) {
    fail(`describeGroups: the member is assigned ${JSON.stringify(assignment)}`)
  }
  await third.consumer.disconnect()
  const committed = await committedOffsets(admin)
  if (JSON.stringify(committed) !== JSON.stringify(ends)) {
    fail(`fetchOffsets ${JSON.stringify(committed)}, want ${JSON.stringify(ends)}`)
  }
  await setOffsets(kafka, admin, all)
  const deleted = await admin.deleteGroups([GROUP])
  if (deleted.length !== 1 || deleted[0].groupId !== GROUP || deleted[0].errorCode !== 0) {
    fail(`deleteGroups: ${JSON.stringify(deleted)}`)
  }
  if ((await admin.listGroups()).groups.some(x => x.groupId === GROUP)) fail('the group is listed after deleteGroups')
  console.log(`ok: admin listGroups, describeGroups (Stable, ${groups[0].protocol}, one member with ` +
              `${JSON.stringify(parts)}), fetchOffsets ${JSON.stringify(committed)}, deleteGroups`)
}

// admin.setOffsets on the empty group (kafkajs joins it and commits by seeking); a new member
// starts there and reads exactly the records from those offsets on.
async function setOffsets(kafka, admin, all) {
  const at = { 0: 10, 1: 20, 2: 30 }
  const partitions = Object.entries(at).map(([partition, offset]) => ({ partition: Number(partition), offset: String(offset) }))
  await admin.setOffsets({ groupId: GROUP, topic: TOPIC, partitions })
  const committed = await committedOffsets(admin)
  if (JSON.stringify(committed) !== JSON.stringify(at)) fail(`fetchOffsets after setOffsets: ${JSON.stringify(committed)}`)
  const want = new Map([...all].filter(([k]) => Number(k.split(':')[1]) >= at[Number(k.split(':')[0])]))
  const got = new Map()
  const m = await member(kafka, got)
  await waitFor('a member reads from the offsets set by admin.setOffsets', async () => sameMap(got, want) || got.size)
  await sleep(1000) // nothing below them arrives later
  await m.consumer.disconnect()
  if (!sameMap(got, want)) fail(`after setOffsets: ${firstDifference(got, want)}`)
  console.log(`ok: admin.setOffsets ${JSON.stringify(at)}; a new member read exactly the ${want.size} records from there`)
}

// ------------------------------------------------------------------------- main

// GZIP batches (kafkajs's built-in codec) read back exactly by a group member.
async function gzip(kafka) {
  const topic = 'js-gzip'
  const sent = await produce(kafka, 0, 60, {}, topic, kafkajs.CompressionTypes.GZIP)
  const got = new Map()
  const reader = await member(kafka, got, topic, 'js-gzip-reader')
  await waitFor(`${topic} read back`, async () => sameMap(got, sent) || got.size)
  await reader.consumer.disconnect()
  console.log(`ok: ${topic}: a group member read the ${sent.size} gzip-compressed records back exactly`)
}

// CreateTopics and DeleteTopics (API 19, 20), as kafkajs's admin sends them.
async function adminTopics(kafka, nodes) {
  const topic = 'js-admin'
  const admin = kafka.admin()
  const strict = kafka.admin({ retry: { retries: 0 } }) // errors surface at once
  await admin.connect()
  await strict.connect()
  const spec = { topic, numPartitions: PARTITIONS, replicationFactor: nodes.length }
  if (!(await admin.createTopics({ topics: [spec], waitForLeaders: true, timeout: 30000 }))) {
    fail(`createTopics(${topic}) answered false for a new topic`)
  }
  if (await admin.createTopics({ topics: [spec], waitForLeaders: false })) {
    fail(`createTopics(${topic}) again answered true (want false: TOPIC_ALREADY_EXISTS)`)
  }
  const errorOf = async call => {
    try {
      await call()
    } catch (e) {
      // kafkajs wraps the broker's error (retries exhausted, one error per topic).
      for (let x = e; x; x = x.originalError || x.cause) {
        if (x.errors && x.errors[0] && x.errors[0].type) return x.errors[0].type
        if (x.type) return x.type
      }
      return String(e)
    }
    return 'none'
  }
  const rf = await errorOf(() => strict.createTopics({
    topics: [{ topic: 'js-rf', numPartitions: 1, replicationFactor: nodes.length + 1 }],
  }))
  if (rf !== 'INVALID_REPLICATION_FACTOR') fail(`createTopics with RF ${nodes.length + 1}: ${rf}`)
  // validateOnly creates nothing, so there are no leaders to wait for (kafkajs would get
  // UNKNOWN_TOPIC_OR_PARTITION waiting, from Kafka too).
  await admin.createTopics({ topics: [{ topic: 'js-dry', numPartitions: 1 }], validateOnly: true, waitForLeaders: false })
  if ((await admin.listTopics()).includes('js-dry')) fail('validateOnly created js-dry')
  const sent = await produce(kafka, 0, 30, {}, topic)
  await admin.deleteTopics({ topics: [topic], timeout: 30000 })
  await waitFor(`${topic} gone from listTopics`, async () => !(await admin.listTopics()).includes(topic))
  const again = await errorOf(() => strict.deleteTopics({ topics: [topic] }))
  if (again !== 'UNKNOWN_TOPIC_OR_PARTITION') fail(`deleteTopics of a deleted topic: ${again}`)
  if (!(await admin.createTopics({ topics: [spec], waitForLeaders: true, timeout: 30000 }))) {
    fail(`createTopics(${topic}) after its deletion answered false`)
  }
  await produce(kafka, 100, 10, {}, topic) // base offsets 0 again: the new topic is empty
  await admin.deleteTopics({ topics: [topic], timeout: 30000 })
  await strict.disconnect()
  await admin.disconnect()
  console.log(`ok: admin.createTopics (new: true, existing: false, INVALID_REPLICATION_FACTOR, validateOnly), ` +
              `deleteTopics (${sent.size} records gone, UNKNOWN_TOPIC_OR_PARTITION after), re-created empty`)
}

// CreatePartitions, DescribeConfigs and AlterConfigs as kafkajs sends them.
async function adminConfigs(kafka, nodes) {
  const topic = 'js-configs'
  const admin = kafka.admin()
  const strict = kafka.admin({ retry: { retries: 0 } })
  await admin.connect()
  await strict.connect()
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: nodes.length,
               configEntries: [{ name: 'max.message.bytes', value: '2000000' }] }],
    waitForLeaders: true, timeout: 30000,
  })
  await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }], timeout: 30000 })
  await waitFor(`${topic} with 3 partitions`, async () => {
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    return md.topics[0].partitions.length === 3 && md.topics[0].partitions.every(p => p.leader >= 0)
  })
  let fewer = 'none'
  try {
    await strict.createPartitions({ topicPartitions: [{ topic, count: 2 }] })
  } catch (e) {
    for (let x = e; x && fewer === 'none'; x = x.originalError || x.cause) if (x.type) fewer = x.type
  }
  if (fewer !== 'INVALID_PARTITIONS') fail(`createPartitions to fewer partitions: ${fewer}`)
  const describe = async () => {
    const d = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
                                            includeSynonyms: false })
    const r = d.resources[0]
    if (r.errorCode !== 0) fail(`describeConfigs(${topic}): ${r.errorCode} ${r.errorMessage}`)
    return Object.fromEntries(r.configEntries.map(e => [e.configName, e]))
  }
  let configs = await describe()
  const mmb = configs['max.message.bytes']
  if (mmb.configValue !== '2000000' || mmb.isDefault) fail(`max.message.bytes: ${JSON.stringify(mmb)}`)
  if (!configs['retention.ms'].isDefault) fail(`retention.ms: ${JSON.stringify(configs['retention.ms'])}`)
  await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
                                           configEntries: [{ name: 'retention.ms', value: '7200000' }] }] })
  configs = await describe()
  if (configs['retention.ms'].configValue !== '7200000' || configs['retention.ms'].isDefault ||
      !configs['max.message.bytes'].isDefault) {
    fail(`after alterConfigs: retention.ms ${JSON.stringify(configs['retention.ms'])}, ` +
         `max.message.bytes ${JSON.stringify(configs['max.message.bytes'])}`)
  }
  let bad = 'none'
  try {
    await strict.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
                                              configEntries: [{ name: 'retention.ms', value: 'soon' }] }] })
  } catch (e) {
    for (let x = e; x && bad === 'none'; x = x.originalError || x.cause) if (x.type) bad = x.type
  }
  if (bad !== 'INVALID_CONFIG') fail(`alterConfigs with retention.ms=soon: ${bad}`)
  await deleteRecords(kafka, admin, topic)
  await admin.deleteTopics({ topics: [topic], timeout: 30000 })
  await strict.disconnect()
  await admin.disconnect()
  console.log('ok: admin.createPartitions (1 -> 3, INVALID_PARTITIONS), describeConfigs, alterConfigs (INVALID_CONFIG), ' +
              'deleteTopicRecords')
}

// admin.deleteTopicRecords (DeleteRecords): partition 0's log then starts at the offset
// (fetchTopicOffsets' low), and a consumer from the beginning reads from there.
async function deleteRecords(kafka, admin, topic) {
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic, messages: [0, 1, 2, 3, 4].map(i => ({ partition: 0, value: `r${i}` })) })
  await producer.disconnect()
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] })
  const offsets = await admin.fetchTopicOffsets(topic)
  const p0 = offsets.find(o => o.partition === 0)
  if (p0.low !== '3' || p0.high !== '5') fail(`after deleteTopicRecords to 3: ${JSON.stringify(p0)}`)
}

async function scenario(kafka, nodes) {
  await awaitServer(kafka, nodes)
  const admin = kafka.admin()
  await admin.connect()
  const sent = await produce(kafka, 0, RECORDS, {})
  const ends = endsOf(sent)
  await checkEnds(admin, ends)
  await checkTimes(admin, sent)
  await twoMembers(kafka, admin, sent)
  const more = await produce(kafka, RECORDS, MORE, ends)
  const ends2 = endsOf(new Map([...sent, ...more]))
  await checkEnds(admin, ends2)
  const third = await resume(kafka, admin, more, ends)
  await adminGroups(kafka, admin, third, new Map([...sent, ...more]))
  if (nodes.length === 1) await gzip(kafka)
  const md = await admin.fetchTopicMetadata({ topics: [TOPIC] })
  const parts = md.topics[0].partitions
  if (parts.length !== PARTITIONS || parts.some(p => p.replicas.length !== nodes.length)) {
    fail(`fetchTopicMetadata: ${JSON.stringify(md)}`)
  }
  console.log(`ok: fetchTopicMetadata: ${PARTITIONS} partitions, ${nodes.length} replicas each, leaders ` +
              JSON.stringify(parts.map(p => p.leader)))
  await admin.disconnect()
  await adminTopics(kafka, nodes)
  await adminConfigs(kafka, nodes)
}

async function part(keel, root, name, n, extra) {
  console.log(`--- ${name}`)
  const workdir = path.join(root, name.replace(/[^a-z0-9]+/g, '-'))
  let started
  for (let attempt = 0; !started; attempt++) {
    const { nodes, bootstrap } = await startNodes(keel, attempt ? `${workdir}-attempt-${attempt}` : workdir, n, extra)
    try {
      await awaitServer(client(bootstrap, 'keel-kafkajs-test'), nodes)
      started = { nodes, bootstrap }
    } catch (e) {
      killNodes(nodes)
      if (!(e instanceof PortTaken) || attempt === 4) throw e
      console.log('note: a port was taken meanwhile; the nodes start again on new ports')
    }
  }
  const { nodes, bootstrap } = started
  try {
    await scenario(client(bootstrap, 'keel-kafkajs-test'), nodes)
    await stopNodes(nodes)
    console.log('ok: keel server stopped on SIGTERM with exit 0')
  } finally {
    killNodes(nodes)
  }
}

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: kafkajs_test.js KEEL_BINARY')
    return 2
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-kafkajs-test-'))
  console.log(`workdir ${root} (kept with the server logs if the test fails); kafkajs ` +
              require(path.join(__dirname, 'kafkajs', 'node_modules', 'kafkajs', 'package.json')).version)
  const keel = path.resolve(process.argv[2])
  await part(keel, root, 'one combined node', 1, SINGLE_EXTRA)
  await part(keel, root, 'three combined nodes, RF 3, min ISR 2', 3, CLUSTER_EXTRA)
  fs.rmSync(root, { recursive: true, force: true })
  console.log(`kafkajs used: ${[...versionsUsed].sort().join(', ')}`)
  return 0
}

main().then(code => process.exit(code), e => {
  console.error(e && e.stack ? e.stack : e)
  process.exit(1)
})
