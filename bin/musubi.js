#!/usr/bin/env node
// The compiled entry point; `npm install` builds it through the prepare script.
import '../dist/src/main.js';
