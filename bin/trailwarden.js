#!/usr/bin/env node
// Runs the built CLI (dist/ is built by `npm install` through the prepare script).
import '../dist/cli.js';
