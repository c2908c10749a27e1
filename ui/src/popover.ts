// Entry of the popover window: real Tauri IPC and the wall clock.
import { mount } from 'svelte';
import './app.css';
import Popover from './components/Popover.svelte';
import { createClock } from './lib/clock';
import { tauriIpc } from './lib/ipc';

const target = document.getElementById('app');
if (!target) throw new Error('popover.html has no #app');
mount(Popover, { target, props: { ipc: tauriIpc, clock: createClock() } });
