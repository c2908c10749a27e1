// Entry of the settings window: real Tauri IPC and the wall clock.
import { mount } from 'svelte';
import './app.css';
import './settings.css';
import SettingsApp from './components/SettingsApp.svelte';
import { createClock } from './lib/clock';
import { tauriSettingsIpc } from './lib/settings-ipc';

const target = document.getElementById('app');
if (!target) throw new Error('settings.html has no #app');
mount(SettingsApp, { target, props: { ipc: tauriSettingsIpc, clock: createClock() } });
