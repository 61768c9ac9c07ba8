import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface ProviderSecretsProps {
  providers: readonly string[];
  /** Unset keeps the CDK default. */
  removalPolicy?: RemovalPolicy;
}

/**
 * One Secrets Manager secret per provider (stateful), holding `{"keys": ["..."]}`: the provider's HMAC
 * secrets, or for Gnosis Pay its Ed25519 public key; two keys during a rotation. The stack never
 * holds a key: it creates each secret with an empty key list (ingest answers 401 `no_keys_configured`
 * until an operator puts the real value: README.md "Put each provider's keys", "Rotate keys").
 */
export class ProviderSecrets extends Construct {
  private readonly secrets = new Map<string, secretsmanager.Secret>();

  constructor(scope: Construct, id: string, props: ProviderSecretsProps) {
    super(scope, id);
    for (const provider of props.providers) {
      const secret = new secretsmanager.Secret(this, provider, {
        description: `Webhook verification keys of ${provider}: JSON {"keys": ["..."]}`,
        // An empty key list plus a generated filler field: no value in code or in the template.
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ keys: [] }),
          generateStringKey: 'placeholder',
        },
        ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The keys are issued by the provider (HMAC secrets from its dashboard, Gnosis Pay public key); ' +
          'a rotation Lambda cannot mint them. Rotation is started at the provider and done with ' +
          'put-secret-value listing old and new key together (README.md, "Rotate keys").',
      });
      this.secrets.set(provider, secret);
    }
  }

  /** The secret of one provider. */
  of(provider: string): secretsmanager.Secret {
    const secret = this.secrets.get(provider);
    if (!secret) throw new Error(`no secret for provider "${provider}"`);
    return secret;
  }
}
