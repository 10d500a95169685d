#!/usr/bin/env node
// The entry point: runs the built CLI (dist/ is built by `npm install` through the prepare script).
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv);
