import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Progress, Skeleton, Space, Table, Tag, Typography } from 'antd';
import { useNavigate, useParams } from 'react-router-dom';
import { useClient } from '../auth.js';
import { yuan, when } from '../format.js';
import { useI18n } from '../i18n.js';
import { asManifest, priceText } from '../manifest.js';
import { categoryLabel } from './Store.js';

/** A product: its description, versions, the adaptation matrix (chip × efficiency) and price. */
export default function Product() {
  const { name = '' } = useParams();
  const { t, lang } = useI18n();
  const client = useClient();
  const navigate = useNavigate();
  const detail = useQuery({ queryKey: ['product', name], queryFn: () => client.product(name) });
  if (detail.isPending) return <Skeleton active />;
  if (detail.isError) return <Alert type="error" showIcon title={detail.error.message} />;
  const { product, versions } = detail.data;
  const listed = versions.find((v) => v.status === 'listed') ?? versions[0];
  const manifest = listed ? asManifest(listed.manifest) : null;
  const adaptation = Object.entries(manifest?.app?.adaptation ?? {}).sort((a, b) => b[1].efficiency - a[1].efficiency);
  const maxEfficiency = Math.max(1, ...adaptation.map(([, a]) => a.efficiency));
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{product.title}</Typography.Title>
      <Typography.Paragraph>{product.summary}</Typography.Paragraph>
      <Descriptions size="small" bordered column={{ xs: 1, md: 2 }}>
        <Descriptions.Item label={t('product.name')}>{product.name}</Descriptions.Item>
        <Descriptions.Item label={t('product.category')}>{categoryLabel(t, product.category)}</Descriptions.Item>
        <Descriptions.Item label={t('product.provider')}>{product.provider}</Descriptions.Item>
        <Descriptions.Item label={t('product.licence')}>{product.licence}</Descriptions.Item>
        <Descriptions.Item label={t('product.price')}>{manifest ? priceText(manifest.price, t, yuan) : '—'}</Descriptions.Item>
        <Descriptions.Item label={t('product.launches')}>{product.launches}</Descriptions.Item>
      </Descriptions>
      {manifest?.app ? (
        <Button type="primary" onClick={() => void navigate(`/launch/${encodeURIComponent(product.name)}`)}>{t('product.launch')}</Button>
      ) : null}
      {manifest?.app ? (
        <Card size="small" title={t('product.adaptation')}>
          <Table
            size="small"
            rowKey={([chip]) => chip}
            pagination={false}
            dataSource={adaptation}
            columns={[
              { title: t('product.chip'), render: (_, [chip]) => <code>{chip}</code> },
              {
                title: t('product.efficiency'),
                render: (_, [, a]) => (
                  <Space>
                    <Progress percent={Math.round((a.efficiency / maxEfficiency) * 100)} showInfo={false} size="small" style={{ width: 100 }} aria-hidden />
                    <span>{a.efficiency.toFixed(2)}</span>
                  </Space>
                ),
              },
              { title: t('product.level'), render: (_, [, a]) => <Tag color={a.level === 'verified' ? 'green' : a.level === 'community' ? 'blue' : 'default'}>{t(`level.${a.level}`)}</Tag> },
              { title: t('product.note'), render: (_, [, a]) => a.note ?? '', responsive: ['md'] },
            ]}
          />
          <Typography.Text type="secondary">{t('product.adaptationHelp', { ref: manifest.app.referenceAccelerator ?? 'nvidia-a100' })}</Typography.Text>
        </Card>
      ) : null}
      <Card size="small" title={t('product.versions')}>
        <Table
          size="small"
          rowKey="version"
          pagination={false}
          dataSource={versions}
          columns={[
            { title: t('product.version'), dataIndex: 'version' },
            { title: t('product.status'), dataIndex: 'status', render: (s: string) => <Tag>{t(`status.${s}`)}</Tag> },
            { title: t('product.listedAt'), dataIndex: 'listedAt', render: (v: string | null) => when(v, lang) },
          ]}
        />
      </Card>
      {product.description ? (
        <Card size="small" title={t('product.description')}>
          <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{product.description}</Typography.Paragraph>
        </Card>
      ) : null}
    </Space>
  );
}
