// Evaluates a batch of IAM authorization requests with @cloud-copilot/iam-simulate, offline, in one
// process (the permission tests call it once per batch: starting Node per request would be slow).
// Reads a JSON array of simulations ({request, identityPolicies, resourcePolicy?}) on stdin and
// writes a JSON array of {result, errors?, ignoredContextKeys?} in the same order on stdout.
// Strict mode: a condition on a key the request does not carry does not match, as in AWS.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const answers = []
for (const simulation of simulations) {
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
process.stdout.write(JSON.stringify(answers))
