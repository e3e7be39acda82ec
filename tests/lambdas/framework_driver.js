// Runs the CDK provider framework's own bundled code (framework.js, cfn-response.js, outbound.js,
// util.js, consts.js as aws-cdk-lib ships them) for tests, driven from pytest over JSON lines.
//
// Only what leaves the framework's Lambda is stubbed: the AWS SDK clients (Lambda invoke of the
// user's on_event / is_complete, Step Functions StartExecution of the waiter) and the HTTPS PUT of
// the response to CloudFormation's pre-signed URL. Everything in between (merging on_event's answer
// into the waiter's input, validating isComplete's answer, the create-failed marker, the reason
// and body of every response) is the framework's real code.
//
// Usage: node framework_driver.js RUNTIME_DIR
// stdin:  {"handler": "onEvent" | "isComplete" | "onTimeout", "event": {...}, "env": {...}}
//         one command at a time; "env" sets (or, with null, removes) the framework's environment
//         variables first: without USER_IS_COMPLETE_FUNCTION_ARN it answers from onEvent alone
//         {"Payload": "...", "FunctionError": "Unhandled"?}                       answer to an "invoke"
// stdout: {"type": "invoke", "function": ARN, "payload": "..."}                  expects an answer
//         {"type": "startExecution", "stateMachineArn": ARN, "input": "..."}
//         {"type": "response", "url": URL, "body": "..."}                         the PUT to CloudFormation
//         {"type": "done", "outcome": "ok" | "error", "retry": bool, "message": "..."}
"use strict";

const Module = require("module");
const path = require("path");
const readline = require("readline");
const util = require("util");

const runtime = path.resolve(process.argv[2]);
const protocol = process.stdout;

// The framework logs with console.log; keep stdout for the protocol.
console.log = (...args) => process.stderr.write(util.format(...args) + "\n");

function send(message) {
  protocol.write(JSON.stringify(message) + "\n");
}

// Lines from pytest: commands, and answers to invocations (one outstanding at a time).
const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
const queued = [];
lines.on("line", (line) => {
  const message = JSON.parse(line);
  if (waiting.length) waiting.shift()(message);
  else queued.push(message);
});
lines.on("close", () => process.exit(0));

function next() {
  return queued.length ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiting.push(resolve));
}

class Lambda {
  async invoke(request) {
    send({ type: "invoke", function: request.FunctionName, payload: request.Payload });
    const answer = await next();
    return {
      StatusCode: 200,
      Payload: new TextEncoder().encode(answer.Payload),
      ...(answer.FunctionError ? { FunctionError: answer.FunctionError } : {}),
    };
  }
}

class SFN {
  async startExecution(request) {
    send({ type: "startExecution", stateMachineArn: request.stateMachineArn, input: request.input });
    return { executionArn: `${request.stateMachineArn}:execution`, startDate: new Date() };
  }
}

const https = {
  request(options, callback) {
    const chunks = [];
    const handlers = {};
    return {
      on(name, handler) {
        handlers[name] = handler;
        return this;
      },
      write(chunk) {
        chunks.push(chunk);
      },
      end() {
        send({ type: "response", url: `https://${options.hostname}${options.path}`, method: options.method, headers: options.headers, body: chunks.join("") });
        setImmediate(() => callback({ statusCode: 200, resume() {} }));
      },
    };
  },
};

const stubs = {
  "@aws-sdk/client-lambda": { Lambda, waitUntilFunctionActiveV2: async () => ({ state: "SUCCESS" }) },
  "@aws-sdk/client-sfn": { SFN },
  https,
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (Object.prototype.hasOwnProperty.call(stubs, request)) return stubs[request];
  return load.call(this, request, parent, isMain);
};

const framework = require(path.join(runtime, "framework.js"));

async function main() {
  for (;;) {
    const command = await next();
    for (const [name, value] of Object.entries(command.env || {})) {
      if (value === null) delete process.env[name];
      else process.env[name] = value;
    }
    try {
      await framework[command.handler](command.event);
      send({ type: "done", outcome: "ok", retry: false });
    } catch (error) {
      // What the waiter state machine sees: a Retry asks for another isComplete.
      send({ type: "done", outcome: "error", retry: error.constructor.name === "Retry", message: error.message });
    }
  }
}

main().catch((error) => {
  process.stderr.write(`driver failed: ${error.stack}\n`);
  process.exit(1);
});
