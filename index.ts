// Entry point of the dot-ai-gateway Pulumi program; see README.md and stacks/program.ts.
import { program } from "./stacks/program";

export = program;
