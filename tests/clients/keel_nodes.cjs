// The `keel server` side of the Node.js real-client tests (kafkajs_test.js,
// platformatic_test.mjs): free loopback ports, n combined controller+broker nodes in a
// directory, and stopping them. CommonJS, so the kafkajs test (CommonJS) requires it and the
// platformatic test (an ES module) imports it.
'use strict'
const fs = require('fs')
const net = require('net')
const path = require('path')
const { spawn } = require('child_process')

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

function portFree(port) {
  return new Promise(resolve => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

function anyPort() {
  return new Promise(resolve => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

// A free port whose successor is free too when `pair` (the controller RPC listener is the
// CONTROLLER port + 1), as server_clients_test.py picks them.
async function freePort(pair) {
  for (let i = 0; i < 200; i++) {
    const port = await anyPort()
    if (!pair || (port < 65535 && (await portFree(port + 1)))) return port
  }
  throw new Error('no free port')
}

// Distinct (client, controller) ports for n nodes, each controller port + 1 free too.
async function clusterPorts(n) {
  for (;;) {
    const ports = []
    for (let i = 0; i < n; i++) ports.push([await freePort(false), await freePort(true)])
    const used = ports.flatMap(([c, q]) => [c, q, q + 1])
    if (new Set(used).size === used.length) return ports
  }
}

// Properties for one node (Kafka needs the offsets topic's RF at 1 there) and for three.
const SINGLE_EXTRA = `offsets.topic.replication.factor=1
`
const CLUSTER_EXTRA = `offsets.topic.replication.factor=3
default.replication.factor=3
min.insync.replicas=2
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=500
replica.lag.time.max.ms=4000
`

// Starts n combined controller+broker nodes under workdir/node-<i>, each with the common
// properties below plus `properties` (one per line); `writer` names the test in each
// server.properties. Returns the nodes ({ proc, exited, logPath }) and the bootstrap list.
async function startNodes(keel, workdir, n, properties, writer) {
  const ports = await clusterPorts(n)
  const voters = ports.map(([, q], i) => `${i + 1}@127.0.0.1:${q}`).join(',')
  const nodes = []
  for (let i = 0; i < n; i++) {
    const [port, controller] = ports[i]
    const dir = path.join(workdir, `node-${i + 1}`)
    fs.mkdirSync(dir, { recursive: true })
    const config = path.join(dir, 'server.properties')
    fs.writeFileSync(config, `# written by ${writer}
process.roles=broker,controller
node.id=${i + 1}
controller.quorum.voters=${voters}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}
controller.listener.names=CONTROLLER
log.dirs=${path.join(dir, 'data')}
offsets.topic.num.partitions=5
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
${properties}`)
    const logPath = path.join(dir, 'server.log')
    const log = fs.openSync(logPath, 'w')
    const proc = spawn(keel, ['server', '--config', config], { cwd: dir, stdio: ['ignore', log, log] })
    const exited = new Promise(resolve => proc.on('exit', (code, signal) => resolve(signal || code)))
    nodes.push({ proc, exited, logPath })
  }
  return { nodes, bootstrap: ports.map(([c]) => `127.0.0.1:${c}`) }
}

// SIGTERM to each node in turn; throws unless each exits 0 within waitMs.
async function stopNodes(nodes, waitMs) {
  for (const node of nodes) {
    node.proc.kill('SIGTERM')
    const code = await Promise.race([node.exited, sleep(waitMs).then(() => 'timeout')])
    if (code !== 0) throw new Error(`keel server exited with ${code} on SIGTERM`)
  }
}

function killNodes(nodes) {
  for (const node of nodes) {
    if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGKILL')
  }
}

module.exports = { SINGLE_EXTRA, CLUSTER_EXTRA, startNodes, stopNodes, killNodes }
