import { Alert, App as AntApp, Button, ConfigProvider, Layout, Menu, Segmented, Space, Spin, Tag, Typography } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, Suspense, type ReactNode } from 'react';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth, useWhoAmI } from './auth.js';
import { useI18n, type Lang } from './i18n.js';
import type { MessageKey } from './messages.js';
import { SignIn } from './pages/SignIn.js';

// Every page but sign-in is its own chunk, loaded when first visited: the first page stays small.
const Store = lazy(() => import('./pages/Store.js'));
const Product = lazy(() => import('./pages/Product.js'));
const Launch = lazy(() => import('./pages/Launch.js'));
const Jobs = lazy(() => import('./pages/Jobs.js'));
const Job = lazy(() => import('./pages/Job.js'));
const Network = lazy(() => import('./pages/Network.js'));
const Wallet = lazy(() => import('./pages/Wallet.js'));
const Publish = lazy(() => import('./pages/Publish.js'));
const Admin = lazy(() => import('./pages/Admin.js'));

/** The main menu: path and label; `admin` entries show only to admins. */
const NAV: readonly { readonly path: string; readonly label: MessageKey; readonly admin?: boolean }[] = [
  { path: '/store', label: 'nav.store' },
  { path: '/jobs', label: 'nav.jobs' },
  { path: '/network', label: 'nav.network' },
  { path: '/wallet', label: 'nav.wallet' },
  { path: '/publish', label: 'nav.publish' },
  { path: '/admin', label: 'nav.admin', admin: true },
];

export function App() {
  const { lang } = useI18n();
  return (
    <ConfigProvider locale={lang === 'zh' ? zhCN : enUS} button={{ autoInsertSpace: false }} theme={{ token: { colorPrimary: '#1261c4' } }}>
      <AntApp>
        <Shell />
      </AntApp>
    </ConfigProvider>
  );
}

function Shell() {
  const { token } = useAuth();
  const { t } = useI18n();
  const who = useWhoAmI();
  if (token === null) return <Frame><SignIn /></Frame>;
  if (who.isPending) return <Frame><Spin aria-label={t('common.loading')} /></Frame>;
  if (who.isError) return <Frame><SignIn error={who.error} /></Frame>;
  const isAdmin = who.data.role === 'admin';
  return (
    <Frame user={who.data} isAdmin={isAdmin}>
      <Suspense fallback={<Spin aria-label={t('common.loading')} />}>
        <Routes>
          <Route path="/" element={<Navigate to="/store" replace />} />
          <Route path="/store" element={<Store />} />
          <Route path="/store/:name" element={<Product />} />
          <Route path="/launch/:name" element={<Launch />} />
          <Route path="/jobs" element={<Jobs />} />
          <Route path="/jobs/:id" element={<Job />} />
          <Route path="/network" element={<Network />} />
          <Route path="/wallet" element={<Wallet />} />
          <Route path="/publish" element={<Publish />} />
          <Route path="/admin" element={isAdmin ? <Admin /> : <Alert type="warning" showIcon title={t('admin.only')} />} />
          <Route path="*" element={<Alert type="warning" showIcon title={t('common.noPage')} />} />
        </Routes>
      </Suspense>
    </Frame>
  );
}

interface FrameProps {
  readonly children: ReactNode;
  readonly user?: { readonly user: string; readonly org: string; readonly role: string };
  readonly isAdmin?: boolean;
}

/** The page frame: brand, main menu (when signed in), language switch, who is signed in. */
function Frame({ children, user, isAdmin = false }: FrameProps) {
  const { t, lang, setLang } = useI18n();
  const { signOut } = useAuth();
  const location = useLocation();
  const selected = NAV.find((n) => location.pathname.startsWith(n.path) || (n.path === '/store' && location.pathname.startsWith('/launch')));
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 16, paddingInline: 16 }}>
        <Link to="/store" style={{ color: '#fff', fontWeight: 600, fontSize: 18, whiteSpace: 'nowrap' }} aria-label={t('brand.home')}>
          {t('brand.name')}
        </Link>
        {user ? (
          <nav aria-label={t('nav.label')} style={{ flex: 1, minWidth: 0 }}>
            <Menu
              theme="dark"
              mode="horizontal"
              selectedKeys={selected ? [selected.path] : []}
              items={NAV.filter((n) => !n.admin || isAdmin).map((n) => ({ key: n.path, label: <Link to={n.path}>{t(n.label)}</Link> }))}
            />
          </nav>
        ) : (
          <div style={{ flex: 1 }} />
        )}
        <Segmented<Lang>
          size="small"
          aria-label={t('lang.label')}
          value={lang}
          onChange={setLang}
          options={[
            { value: 'zh', label: '中文' },
            { value: 'en', label: 'EN' },
          ]}
        />
      </Layout.Header>
      {user ? (
        <div style={{ background: '#fff', padding: '6px 16px', borderBottom: '1px solid #eee' }}>
          <Space wrap size="small" data-testid="whoami">
            <Typography.Text>{t('auth.signedInAs', { user: user.user })}</Typography.Text>
            <Tag color="blue">{t('auth.org', { org: user.org })}</Tag>
            <Tag>{t(`role.${user.role}` as MessageKey)}</Tag>
            <Button size="small" onClick={signOut}>{t('auth.signOut')}</Button>
          </Space>
        </div>
      ) : null}
      <Layout.Content style={{ padding: 16, maxWidth: 1280, width: '100%', margin: '0 auto' }}>
        <main>{children}</main>
      </Layout.Content>
      <Layout.Footer style={{ textAlign: 'center', padding: 12 }}>
        <Typography.Text type="secondary">{t('brand.footer')}</Typography.Text>
      </Layout.Footer>
    </Layout>
  );
}
