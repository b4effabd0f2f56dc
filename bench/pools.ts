/**
 * @module Value pools for the bench data set: a large population of users, products, search words,
 * user agents. Large pools and random draws keep the data set's entropy realistic, so compression
 * ratios measured on it are not flattered by repetition.
 */
import type { Rng } from './rng.js';

const FIRST = (
  'maria jose anna john david michael sarah laura james robert linda karen thomas daniel paul mark ' +
  'emma olivia sophia liam noah lucas mia ella chloe leon finn jonas lena hannah lea luca marco ' +
  'giulia francesca alessandro pierre camille louis manon hugo chloé inès yuki haruto sakura wei ' +
  'fang li ming ravi priya arjun ananya mohammed fatima omar aisha ivan olga dmitri natalia piotr ' +
  'agnieszka jan eva lars ingrid sven astrid diego lucía pablo carmen joão ana tiago beatriz kwame'
).split(' ');
const LAST = (
  'smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez ' +
  'wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ' +
  'müller schmidt schneider fischer weber meyer wagner becker schulz hoffmann rossi russo ferrari ' +
  'esposito bianchi romano dubois durand leroy moreau laurent tanaka suzuki takahashi watanabe wang ' +
  'zhang liu chen yang kumar sharma singh patel khan ivanov petrov kowalski nowak jensen nielsen ' +
  'hansen andersson johansson silva santos oliveira pereira costa mensah okafor nakamura kim park'
).split(' ');
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'proton.me', 'web.de', 'example.org', 'icloud.com'];

export const WORDS = (
  'shoes running trail jacket waterproof winter summer dress shirt linen cotton wool socks boots ' +
  'sneakers sandals backpack laptop sleeve charger usb cable headphones wireless bluetooth speaker ' +
  'keyboard mechanical mouse monitor 27 inch stand lamp desk chair ergonomic coffee grinder espresso ' +
  'kettle mug tea green black organic pasta olive oil tomato sauce knife set pan cast iron wok ' +
  'garden hose seeds tomato basil pot planter drill cordless screwdriver hammer tape measure level ' +
  'yoga mat dumbbell kettlebell bike helmet lights lock pump tent sleeping bag stove lantern ' +
  'kids toys lego puzzle book novel cookbook travel guide map watch strap ring necklace earrings'
).split(' ');

export const BROWSER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'ShopApp/4.12.1 (iOS 17.4; iPhone15,2)',
  'ShopApp/4.11.0 (Android 13; SM-S911B)',
  'curl/8.5.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
];
export const SERVICE_AGENTS = [
  'Go-http-client/1.1',
  'okhttp/4.12.0',
  'python-requests/2.31.0',
  'grpc-go/1.63.2',
  'axios/1.6.8',
];

export interface User {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

export interface Pools {
  readonly users: readonly User[];
  /** Product SKUs, a hot head and a long tail. */
  readonly skus: readonly string[];
  readonly referers: readonly string[];
}

export function buildPools(rng: Rng, userCount = 60_000): Pools {
  const users: User[] = [];
  for (let i = 0; i < userCount; i++) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const suffix = rng.chance(0.6) ? String(rng.int(1000)) : '';
    const name = `${first}.${last}${suffix}`;
    users.push({ id: `u${rng.range(1_000_000, 9_999_999)}`, name, email: `${name}@${rng.pick(DOMAINS)}` });
  }
  const skus = Array.from(
    { length: 20_000 },
    () => `${rng.chars('ABCDEFGHJKLMNPRSTUVWXYZ', 3)}-${rng.range(10000, 99999)}`,
  );
  const referers = [
    '-',
    'https://shop.example.com/',
    'https://www.google.com/',
    'https://shop.example.com/cart',
    'https://shop.example.com/checkout',
    'https://www.bing.com/',
    'https://t.co/',
  ];
  for (let i = 0; i < 200; i++)
    referers.push(`https://shop.example.com/c/${rng.pick(WORDS)}-${rng.pick(WORDS)}`);
  return { users, skus, referers };
}

export function pickUser(rng: Rng, pools: Pools): User {
  return pools.users[rng.skewed(pools.users.length, 2)]!;
}

export function pickSku(rng: Rng, pools: Pools): string {
  return pools.skus[rng.skewed(pools.skus.length, 2.5)]!;
}
