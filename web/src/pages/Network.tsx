import { useQuery } from '@tanstack/react-query';
import { Alert, Card, Space, Table, Tag, Typography } from 'antd';
import { useMemo } from 'react';
import type { CenterResource } from '../../../src/api/client/schemas.js';
import { useClient } from '../auth.js';
import { EChart } from '../chart.js';
import { CHINA_OUTLINE, HAINAN_OUTLINE, TAIWAN_OUTLINE } from '../china-outline.js';
import { when, yuan } from '../format.js';
import { useI18n } from '../i18n.js';

const STATE_COLOR = { online: 'green', draining: 'orange', offline: 'red' } as const;

/** The network: every center on a map of China and in a table — state, free capacity by chip, price and carbon now. */
export default function Network() {
  const { t, lang } = useI18n();
  const client = useClient();
  const centers = useQuery({ queryKey: ['centers'], queryFn: () => client.centers(), refetchInterval: 3_000 });
  const items = centers.data?.items ?? [];
  const option = useMemo(() => mapOption(items, t), [items, t]);
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{t('network.title')}</Typography.Title>
      {centers.isError ? <Alert type="error" showIcon title={centers.error.message} /> : null}
      <Card size="small" title={t('network.map')}>
        <EChart option={option} height={420} label={t('network.mapLabel', { n: items.length })} />
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('network.mapNote')}</Typography.Text>
      </Card>
      <Table
        aria-label={t('network.centers')}
        size="small"
        rowKey="name"
        loading={centers.isPending}
        pagination={false}
        scroll={{ x: true }}
        dataSource={items}
        columns={[
          { title: t('network.center'), render: (_, c) => <span><strong>{c.name}</strong><br /><Typography.Text type="secondary">{c.displayName}</Typography.Text></span> },
          { title: t('network.region'), render: (_, c) => <span>{c.region}{c.location?.hub ? <Tag style={{ marginInlineStart: 6 }}>{t(`network.hub.${c.location.hub}`)}</Tag> : null}</span> },
          { title: t('network.state'), render: (_, c) => <span data-testid={`center-state-${c.name}`}><Tag color={STATE_COLOR[c.state]}>{t(`network.state.${c.state}`)}</Tag>{c.stateReason ? <Typography.Text type="secondary"> {c.stateReason}</Typography.Text> : null}</span> },
          {
            title: t('network.free'),
            render: (_, c) =>
              c.pools.map((p) => (
                <div key={p.name}>
                  {p.accelerator
                    ? t('network.freeChips', { free: p.freeAccelerators, total: p.acceleratorsPerNode * p.nodes, chip: p.accelerator })
                    : t('network.freeCores', { free: p.freeCores, total: p.coresPerNode * p.nodes })}
                </div>
              )),
          },
          {
            title: t('network.price'),
            render: (_, c) =>
              c.pools.map((p) => <div key={p.name}>{p.accelerator ? t('network.perChipHour', { price: yuan(p.fenPerAcceleratorHour) }) : t('network.perCoreHour', { price: yuan(p.fenPerCoreHour) })}</div>),
          },
          { title: t('network.energyNow'), render: (_, c) => t('network.energyValue', { price: yuan(c.energyNow.priceFenPerKwh), carbon: c.energyNow.carbonKgPerKwh.toFixed(3), pue: c.pue }) },
          { title: t('network.heartbeat'), render: (_, c) => when(c.lastHeartbeatAt, lang), responsive: ['md'] },
        ]}
      />
    </Space>
  );
}

function mapOption(centers: readonly CenterResource[], t: ReturnType<typeof useI18n>['t']) {
  const outline = (points: readonly (readonly [number, number])[]) => ({
    type: 'line',
    data: points.map((p) => [...p]),
    symbol: 'none',
    silent: true,
    lineStyle: { color: '#94a3b8', width: 1 },
    areaStyle: undefined,
    z: 1,
  });
  const placed = centers.filter((c) => c.location !== null);
  const byState = (state: CenterResource['state']) => ({
    type: 'scatter',
    name: t(`network.state.${state}`),
    symbolSize: 16,
    itemStyle: { color: { online: '#16a34a', draining: '#ea580c', offline: '#dc2626' }[state] },
    label: { show: true, position: 'right', formatter: (p: { data: [number, number, string] }) => p.data[2] },
    data: placed.filter((c) => c.state === state).map((c) => [c.location!.lon, c.location!.lat, c.name]),
    z: 3,
  });
  return {
    animation: false,
    tooltip: { trigger: 'item', formatter: (p: { data: [number, number, string] }) => (Array.isArray(p.data) && p.data[2] ? `${p.data[2]} (${p.data[0]}°E, ${p.data[1]}°N)` : '') },
    legend: { data: [t('network.state.online'), t('network.state.draining'), t('network.state.offline')], top: 0 },
    grid: { left: 40, right: 20, top: 30, bottom: 30 },
    xAxis: { type: 'value', min: 72, max: 136, name: '°E', splitLine: { show: false } },
    yAxis: { type: 'value', min: 17, max: 55, name: '°N', splitLine: { show: false } },
    series: [outline(CHINA_OUTLINE), outline(HAINAN_OUTLINE), outline(TAIWAN_OUTLINE), byState('online'), byState('draining'), byState('offline')],
  };
}
