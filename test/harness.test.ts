/**
 * The mocks harness (test/harness.ts) reads what the program registers through parts of the Pulumi
 * SDK that are not its testing API. Each test here checks one of them on a tiny program, so that an
 * SDK upgrade that changes one fails here, saying which, rather than somewhere in the program tests.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";

import { SdkSeamError, StackRun, checkSdkSeams, isWrappedSecret, runProgram } from "./harness";

const REFERENCED = "organization/other/prod";

/** The smallest component and custom resource there can be (the SDK's classes are abstract). */
class Parent extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Parent", name);
  }
}
class Thing extends pulumi.CustomResource {
  constructor(name: string, inputs: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    super("test:index:Thing", name, inputs, opts);
  }
}
const CHANGED = "the SDK changed; see the top of test/harness.ts";

describe("the mocks harness", () => {
  let run: StackRun;
  let warnBefore: unknown;
  before(async () => {
    warnBefore = pulumi.log.warn;
    run = await runProgram(
      {
        stack: "harness",
        stacks: { [REFERENCED]: { outputs: { shared: "gw", token: "t0k3n" }, secretOutputNames: ["token"] } },
      },
      async () => {
        const parent = new Parent("parent");
        const first = new Thing(
          "first",
          { plain: "visible", hidden: pulumi.secret("s3cret") },
          { parent, protect: true, retainOnDelete: true },
        );
        new Thing(
          "second",
          {},
          { parent, dependsOn: [first], ignoreChanges: ["plain"], customTimeouts: { create: "90s", update: "2m" } },
        );
        const other = new pulumi.StackReference(REFERENCED);
        pulumi.log.warn("a warning from the program");
        return { shared: other.getOutput("shared"), token: other.getOutput("token") };
      },
    );
    if (run.error) throw run.error;
  });
  const thing = (name: string) => {
    const found = run.resources.find((r) => r.type === "test:index:Thing" && r.name === name);
    assert.ok(found, `${name} was not recorded: RegisterResourceRequest.getType()/getName(): ${CHANGED}`);
    return found;
  };

  it("records each resource's parent and dependencies", () => {
    const parent = run.resources.find((r) => r.type === "test:index:Parent");
    assert.ok(parent, `the component was not recorded: ${CHANGED}`);
    assert.strictEqual(thing("first").parent, parent.urn, `RegisterResourceRequest.getParent(): ${CHANGED}`);
    assert.match(
      thing("first").urn,
      /::test:index:Parent\$test:index:Thing::first$/,
      `RegisterResourceResponse.getUrn(): ${CHANGED}`,
    );
    assert.deepStrictEqual(
      thing("second").dependencies,
      [thing("first").urn],
      `RegisterResourceRequest.getDependenciesList(): ${CHANGED}`,
    );
  });

  it("records protect and retainOnDelete, and their absence", () => {
    assert.strictEqual(thing("first").protect, true, `RegisterResourceRequest.getProtect(): ${CHANGED}`);
    assert.strictEqual(thing("first").retainOnDelete, true, `RegisterResourceRequest.getRetainondelete(): ${CHANGED}`);
    assert.strictEqual(thing("second").protect, false);
    assert.strictEqual(thing("second").retainOnDelete, false);
  });

  it("records ignoreChanges and customTimeouts, and their absence", () => {
    assert.deepStrictEqual(
      thing("second").ignoreChanges,
      ["plain"],
      `RegisterResourceRequest.getIgnorechangesList(): ${CHANGED}`,
    );
    assert.deepStrictEqual(
      thing("second").customTimeouts,
      { create: "90s", update: "2m", delete: "" },
      `RegisterResourceRequest.getCustomtimeouts(): ${CHANGED}`,
    );
    assert.deepStrictEqual(thing("first").ignoreChanges, []);
    assert.deepStrictEqual(thing("first").customTimeouts, { create: "", update: "", delete: "" });
  });

  it("records inputs with secrets still marked, and unwrapped for reading", () => {
    const first = thing("first");
    assert.strictEqual(first.inputs.plain, "visible", `RegisterResourceRequest.getObject(): ${CHANGED}`);
    assert.strictEqual(first.inputs.hidden, "s3cret");
    const raw = first.rawInputs as Record<string, unknown>;
    assert.ok(
      isWrappedSecret(raw.hidden),
      `the secret marker (pulumi.runtime.specialSigKey/specialSecretSig): ${CHANGED}`,
    );
    assert.ok(!isWrappedSecret(raw.plain));
  });

  it("answers a StackReference with the referenced stack's outputs, secret ones kept secret", () => {
    assert.deepStrictEqual(run.stackReads, [REFERENCED], `ReadResourceRequest.getType()/getId(): ${CHANGED}`);
    assert.strictEqual(run.outputs.shared, "gw", `StackReference state (outputs): ${CHANGED}`);
    assert.ok(run.secretOutputs.has("token"), `StackReference state (secretOutputNames): ${CHANGED}`);
    assert.ok(!run.secretOutputs.has("shared"));
  });

  it("collects the program's warnings, and gives pulumi.log.warn back afterwards", () => {
    assert.deepStrictEqual(run.warnings, ["a warning from the program"], `replacing pulumi.log.warn: ${CHANGED}`);
    assert.strictEqual(pulumi.log.warn, warnBefore);
  });

  it("refuses to run, naming what is missing, when the SDK no longer provides it", () => {
    assert.deepStrictEqual(checkSdkSeams(pulumi.runtime.getMonitor()), [], "the installed SDK has everything");
    const problems = checkSdkSeams({ registerResource: () => undefined });
    assert.deepStrictEqual(problems, [
      "pulumi.runtime.getMonitor() under setMocks has no readResource(request, callback)",
    ]);
    const error = new SdkSeamError(problems);
    assert.match(
      error.message,
      /^test\/harness\.ts can no longer record the program: the Pulumi SDK \(@pulumi\/pulumi \d+\.\d+\.\d+\) changed/,
    );
    assert.match(error.message, /\n {2}- pulumi\.runtime\.getMonitor\(\) under setMocks has no readResource/);
  });
});
