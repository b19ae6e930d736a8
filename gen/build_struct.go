package gen

// object maps a closed object schema to a struct.
func (b *builder) object(n *Node, name, doc string) *Type {
	t := &Type{Name: name, Kind: KindStruct, Doc: doc, Source: n, Closed: true, Constraints: b.constraints(n, KindStruct)}
	if !isFalse(n.Get("additionalProperties")) {
		b.probs.add(n, "object %s must be closed (\"additionalProperties\": false)", name)
		return nil
	}
	required := map[string]bool{}
	if req := n.Get("required"); req != nil {
		for _, r := range req.Items {
			if r.Kind != NodeString {
				b.probs.add(r, "required entries must be strings")
				continue
			}
			required[r.Str] = true
		}
	}
	props := n.Get("properties")
	if props != nil && props.Kind != NodeObject {
		b.probs.add(props, "properties must be an object")
		return nil
	}
	b.declare(t, n)
	if props != nil {
		seen := map[string]string{}
		for _, key := range props.Keys {
			p := props.Vals[key]
			if c := p.Get("const"); c != nil {
				if c.Kind != NodeString || !required[key] {
					b.probs.add(c, "a const property must be a required string")
					continue
				}
				t.Consts = append(t.Consts, ConstProp{JSONName: key, Value: c.Str})
				continue
			}
			f := b.field(p, name, key, required[key])
			if f == nil {
				continue
			}
			if other, dup := seen[f.GoName]; dup {
				b.probs.add(p, "properties %q and %q both map to Go field %s", other, key, f.GoName)
				continue
			}
			seen[f.GoName] = key
			t.Fields = append(t.Fields, f)
		}
	}
	for key := range required {
		if props == nil || props.Get(key) == nil {
			b.probs.add(n.Get("required"), "required property %q is not declared in properties", key)
		}
	}
	return t
}

func (b *builder) field(p *Node, parent, key string, required bool) *Field {
	f := &Field{JSONName: key, GoName: GoName(key), Doc: p.StringOf("description"), Required: required}
	schema := p
	if one := p.Get("oneOf"); one != nil {
		if inner, ok := b.nullableArm(one); ok {
			f.Nullable = true
			schema = inner
			if f.Doc == "" {
				f.Doc = inner.StringOf("description")
			}
		}
	}
	f.Type = b.typeOf(schema, parent+f.GoName)
	if f.Type == nil {
		return nil
	}
	if f.Doc == "" && f.Type.Name != "" {
		f.Doc = f.Type.Doc
	}
	return f
}

// union maps oneOf to a sealed interface. Arms are structs; when every arm fixes one common
// property to a distinct const, that property discriminates, else required keys do.
func (b *builder) union(n, one *Node, name, doc string) *Type {
	if one.Kind != NodeArray || len(one.Items) < 2 {
		b.probs.add(one, "oneOf needs at least two arms")
		return nil
	}
	t := &Type{Name: name, Kind: KindUnion, Doc: doc, Source: n, Constraints: b.constraints(n, KindUnion)}
	b.declare(t, n)
	for i, armNode := range one.Items {
		var at *Type
		if armNode.Get("$ref") != nil {
			at = b.typeOf(armNode, "")
		} else {
			title := armNode.StringOf("title")
			if title == "" {
				b.probs.add(armNode, "an inline oneOf arm needs a \"title\" naming its Go type")
				return nil
			}
			at = b.typeOf(armNode, GoName(title))
		}
		if at == nil {
			return nil
		}
		if at.Kind != KindStruct {
			b.probs.add(armNode, "oneOf arm %d must be an object (it maps to %v)", i, at.Name)
			return nil
		}
		if at.HasUnionField() {
			b.probs.add(armNode, "a union arm may not itself hold a union field")
			return nil
		}
		t.Arms = append(t.Arms, &Arm{Type: at})
	}
	t.Discriminator = discriminator(t.Arms)
	if t.Discriminator != "" {
		for _, a := range t.Arms {
			a.Tag, _ = a.Type.ConstValue(t.Discriminator)
		}
	} else if !distinctRequired(t.Arms) {
		b.probs.add(one, "oneOf arms have no const discriminator and their required keys do not tell them apart")
		return nil
	}
	return t
}

// discriminator finds a const property shared by every arm with distinct values.
func discriminator(arms []*Arm) string {
	for _, c := range arms[0].Type.Consts {
		seen := map[string]bool{}
		ok := true
		for _, a := range arms {
			v, has := a.Type.ConstValue(c.JSONName)
			if !has || seen[v] {
				ok = false
				break
			}
			seen[v] = true
		}
		if ok {
			return c.JSONName
		}
	}
	return ""
}

// distinctRequired reports whether no arm's required set is contained in another's.
func distinctRequired(arms []*Arm) bool {
	req := func(t *Type) map[string]bool {
		m := map[string]bool{}
		for _, f := range t.Fields {
			if f.Required {
				m[f.JSONName] = true
			}
		}
		return m
	}
	for i, a := range arms {
		for j, o := range arms {
			if i == j {
				continue
			}
			ra, ro := req(a.Type), req(o.Type)
			subset := true
			for k := range ra {
				if !ro[k] {
					subset = false
					break
				}
			}
			if subset {
				return false
			}
		}
	}
	return true
}
