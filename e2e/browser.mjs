// Launches the system Chromium (never a downloaded one) with WebGPU on SwiftShader, as the README says.
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan',
  '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader',
  '--disable-vulkan-surface', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

export async function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

/** Base URL of the server started by e2e/run.mjs (or one the caller started). */
export function baseUrl() {
  return process.env.ADFQ_BASE_URL ?? 'http://127.0.0.1:5173';
}
