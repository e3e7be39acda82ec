// Evaluates batches of IAM authorization requests with @cloud-copilot/iam-simulate, offline, in one
// process (tests/gates/proof.py keeps one running per test process: starting Node per batch cost
// about 0.2 s, and a warm evaluator judges a batch in about half the time a fresh one does).
// Reads one batch per line on stdin, a JSON array of simulations ({request, identityPolicies,
// resourcePolicy?}), and writes one line per batch on stdout: a JSON array of {result, errors?,
// ignoredContextKeys?} in the same order. It ends when stdin closes.
// Strict mode: a condition on a key the request does not carry does not match, as in AWS.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue
  const answers = []
  for (const simulation of JSON.parse(line)) {
    const outcome = await runSimulation(
      { serviceControlPolicies: [], resourceControlPolicies: [], ...simulation },
      { simulationMode: 'Strict' }
    )
    if (outcome.resultType === 'error') {
      answers.push({ result: 'Error', errors: outcome.errors })
    } else {
      const ignored = outcome.resultType === 'single' ? outcome.result.ignoredContextKeys : []
      answers.push({ result: outcome.overallResult, ignoredContextKeys: ignored ?? [] })
    }
  }
  process.stdout.write(JSON.stringify(answers) + '\n')
}
