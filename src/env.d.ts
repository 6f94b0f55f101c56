/// <reference types="vite/client" />
declare module 'prismjs/components/*';
