/*
 * ks_smp.h — strategic merge patch (application/strategic-merge-patch+json)
 * as kubectl sends it (kubectl apply, patch --type=strategic).
 *
 * Like an RFC 7386 merge patch, plus: lists with a patch merge key
 * (containers, initContainers, ephemeralContainers, env, volumes,
 * imagePullSecrets, resourceClaims, schedulingGates by "name"; ports by
 * "containerPort"; volumeMounts by "mountPath"; volumeDevices by
 * "devicePath"; hostAliases by "ip"; conditions by "type";
 * ownerReferences by "uid"; readinessGates by "conditionType") merge
 * item by item; finalizers merge as a set; and the directives
 * $patch (replace/delete/merge), $retainKeys, $setElementOrder/<list> and
 * $deleteFromPrimitiveList/<list> are applied, never stored.  The merge
 * key is chosen by the list's field name alone (kube-sim serves no two
 * types whose same-named lists differ).  Element order of merged lists:
 * existing items in place, new ones appended ($setElementOrder ignored).
 */
#ifndef KS_SMP_H
#define KS_SMP_H

struct ks_json;

/* Apply patch (an object) to *target (replaced if not an object).
 * 0 ok, -1 out of memory or a directive of the wrong type (*target may
 * be half-patched: patch a copy). */
int ks_smp_apply(struct ks_json **, const struct ks_json *);

#endif /* KS_SMP_H */
