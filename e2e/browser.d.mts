import type { Browser, BrowserContext, BrowserContextOptions, Page, Response } from 'playwright-core';
export declare const CHROMIUM_ARGS: string[];
export declare function launchBrowser(): Promise<Browser>;
export declare function baseUrl(): string;
export declare function servedKind(): 'build' | 'dev';
export declare function serveBuild(): Promise<{ url: string; outDir: string; buildSeconds: number; close(): Promise<void> }>;
export declare function serveDev(): Promise<{ url: string; close(): Promise<void> }>;
export declare function productionServer(): Promise<{ url: string; close(): Promise<void> }>;
export declare function openStudio(options?: {
  url?: string; viewport?: { width: number; height: number }; contextOptions?: BrowserContextOptions;
  beforeGoto?: (page: Page) => unknown; dataCount?: string | RegExp; timeout?: number;
}): Promise<{ browser: Browser; context: BrowserContext; page: Page; pageErrors: string[]; response: Response | null }>;
